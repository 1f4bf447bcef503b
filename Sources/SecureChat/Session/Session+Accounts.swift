/// Carrying out the account actions: the password check and the log-in to an account.
extension Session {
    /// Checks a password on the hashing pool. Logged without the password, ever.
    func checkPassword(_ password: String, for account: Username) async -> PasswordCheck {
        guard let accounts = context.accounts else { return .wrong }
        let check = await accounts.checkPassword(password, accountKey: account.key, address: info.address)
        switch check {
        case .correct: break
        case .wrong: log.log(.notice, "wrong password", metadata: ["account": "\(account)"])
        case .throttled: log.log(.notice, "password attempt throttled", metadata: ["account": "\(account)"])
        case .busy: log.log(.warning, "password check refused: the hashing pool is full")
        }
        return check
    }

    /// Logs in to an account the user has proved is theirs, taking the name over from an older connection.
    func logIn(to name: Username, by method: LoginMethod) async -> LoginOutcome {
        let outcome = await context.hub.login(info, name: name, outbox: outbox, account: method)
        if case .loggedIn = outcome {
            context.accounts?.loggedIn(key: name.key)
            log.log(.info, "logged in to an account", metadata: ["account": "\(name)", "method": "\(method)"])
        }
        return outcome
    }
}
