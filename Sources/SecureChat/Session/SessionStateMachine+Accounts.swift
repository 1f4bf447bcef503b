/// Logging in to a registered name: the password state, and the answers about accounts.
extension SessionStateMachine {
    /// The answer to `.lookUpAccount(name)`.
    public mutating func receive(_ lookup: AccountLookup, for name: Username) -> [SessionAction] {
        guard case .awaitingName(let failures) = state else { return [] }
        switch lookup {
        case .unregistered:
            return [logIn(name, account: nil)]
        case .held:
            state = .awaitingName(failures: failures + 1)
            return [.error("The name \(name) is not available; choose another."), Self.prompt]
        case .registered(let account, certificateMatches: true, _):
            accountMethod = .certificate
            return [logIn(account, account: .certificate)]
        case .registered(let account, certificateMatches: false, let hasPassword):
            state = .awaitingName(failures: failures + 1)
            guard transport.isEncrypted else {
                let port = settings.tlsPort.map { " (port \($0))" } ?? ""
                return [
                    .error("\(account) is registered; log in over TLS\(port) or choose another name."), Self.prompt,
                ]
            }
            guard hasPassword else {
                return [
                    .error(
                        "\(account) is registered and has no password to log in with; choose another name."),
                    Self.prompt,
                ]
            }
            // Not a refused name: a password prompt, and a busy or throttled answer to it, cost no failure (a
            // storm of log-ins answered busy would otherwise close its connections). Wrong passwords have their
            // own count, and the login timeout bounds the rest.
            state = .awaitingPassword(account: account, failures: failures)
            let prompt = "\(account) is registered. Type its password (it shows on your screen), or another name:"
            return [.show(.passwordRequired(name: account.display, text: prompt))]
        }
    }

    /// A line at the password prompt. A line too short to be a password is another name; anything else is the
    /// password, and goes nowhere but into `.checkPassword`.
    mutating func passwordLine(_ text: String, for account: Username, failures: Int) -> [SessionAction] {
        if text.count < AccountService.passwordLengths.lowerBound {
            state = .awaitingName(failures: failures)
            return chooseName(text, failures: failures)
        }
        return [.checkPassword(account, password: text)]
    }

    /// The answer to `.checkPassword(account, ...)`.
    public mutating func receive(_ check: PasswordCheck, for account: Username) -> [SessionAction] {
        guard case .awaitingPassword(let waiting, let failures) = state, waiting == account else { return [] }
        switch check {
        case .correct:
            accountMethod = .password
            return [logIn(account, account: .password)]
        case .wrong:
            wrongPasswords += 1
            state = .awaitingName(failures: failures)
            let wrong = SessionAction.error("Wrong password for \(account).")
            if wrongPasswords >= settings.maximumWrongPasswords {
                return [wrong, .error("Too many wrong passwords; goodbye.")] + close(.tooManyLoginAttempts)
            }
            return [wrong, Self.prompt]
        case .throttled:
            state = .awaitingName(failures: failures)
            return [
                .error("Too many password attempts for \(account) from your address; wait a minute and try again."),
                Self.prompt,
            ]
        case .busy:
            state = .awaitingName(failures: failures)
            return [.error(Self.busyLine), Self.prompt]
        }
    }

    static let busyLine = "The server is busy; try again shortly."
}
