/// The account commands of a logged-in user, and the lines their answers become.
extension SessionStateMachine {
    mutating func execute(_ command: Command.AccountCommand) -> [SessionAction] {
        guard settings.accounts else {
            return [.error("This server has no accounts (it runs without --account-file).")]
        }
        guard case .chatting(let name, _) = state else { return [] }
        let overTLS = settings.tlsPort.map { " (port \($0))" } ?? ""
        // Dropping an account carries no secret: an operator may do it from either port.
        if case .drop(let target) = command { return [.account(.drop(target))] }
        guard transport.isEncrypted else {
            if case .register(let password) = command, password.lowercased() != "cert" {
                return [
                    .error(
                        "Not registered: that password crossed the network unencrypted, so do not use it anywhere. "
                            + "Register over TLS\(overTLS) with another one.")
                ]
            }
            return [.error("Account commands work over TLS only\(overTLS): they carry passwords and certificates.")]
        }
        let owns = accountMethod != nil
        let notLoggedIn = SessionAction.error(
            "You are not logged in to a registered name; /register <password> registers the one you use.")
        switch command {
        case .register(let password):
            return [.account(.register(name, password: password, ownsAccount: owns))]
        case .registerCertificate:
            return [.account(.register(name, password: nil, ownsAccount: owns))]
        case .changePassword(let old, let new):
            return owns ? [.account(.changePassword(name, old: old, new: new))] : [notLoggedIn]
        case .addCertificate:
            return owns ? [.account(.addCertificate(name))] : [notLoggedIn]
        case .listCertificates:
            return owns ? [.account(.listCertificates(name))] : [notLoggedIn]
        case .deleteCertificate(let fingerprint):
            return owns ? [.account(.deleteCertificate(name, fingerprint: fingerprint))] : [notLoggedIn]
        case .unregister(let password):
            return owns ? [.account(.unregister(name, password: password))] : [notLoggedIn]
        case .drop(let target):
            return [.account(.drop(target))]  // (handled above)
        case .reset(let target):
            return [.account(.reset(target))]
        }
    }

    /// The answer to the last `.account` action.
    public mutating func receive(_ reply: AccountReply) -> [SessionAction] {
        guard case .chatting = state else { return [] }
        switch reply {
        case .registered(let name, let byCertificate):
            accountMethod = byCertificate ? .certificate : .password
            if byCertificate {
                return [.notice("\(name) is now registered to you: this client certificate logs you in to it.")]
            }
            return [.notice("\(name) is now registered to you: log in with its password from now on.")]
        case .passwordSet(let name):
            return [.notice("Password set for \(name).")]
        case .passwordChanged:
            return [.notice("Password changed.")]
        case .certificateAdded(let fingerprint):
            return [.notice("Certificate SHA-256 \(fingerprint) now logs you in.")]
        case .certificates(let fingerprints):
            if fingerprints.isEmpty { return [.notice("No certificate logs you in; /cert add binds this one.")] }
            let count = fingerprints.count == 1 ? "1 certificate logs" : "\(fingerprints.count) certificates log"
            return [.notice("\(count) you in:")] + fingerprints.map { .notice("  SHA-256 \($0)") }
        case .certificateRemoved(let fingerprint):
            return [.notice("Certificate SHA-256 \(fingerprint) no longer logs you in.")]
        case .unregistered(let name, let until):
            accountMethod = nil
            return [
                .notice(
                    "\(name) is no longer registered. Nobody can register or take the name until \(until.dateTime).")
            ]
        case .dropped(let name):
            return [.notice("Dropped the account \(name); the name is free.")]
        case .reset(let name, let oneTimePassword):
            return [
                .notice("One-time password for \(name), shown to you alone: \(oneTimePassword)"),
                .notice("It logs in once; then \(name) sets a new password with /register <password>."),
            ]
        case .notRegistered(let name): return [.error("\(name) is not registered.")]
        case .alreadyRegistered(let name):
            return [.error("\(name) is registered already; /password <old> <new> changes its password.")]
        case .held(let name): return [.error("\(name) was unregistered lately and cannot be registered yet.")]
        case .full: return [.error("The server holds as many accounts as it may; none can be registered now.")]
        case .wrongPassword: return [.error("Wrong password.")]
        case .throttled: return [.error("Too many password attempts from your address; wait a minute and try again.")]
        case .busy: return [.error(Self.busyLine)]
        case .passwordLength:
            let lengths = AccountService.passwordLengths
            return [.error("Passwords are \(lengths.lowerBound) to \(lengths.upperBound) characters.")]
        case .registeringTooFast:
            return [.error("Too many registrations lately (from your address or on the server); try again later.")]
        case .noCertificate:
            return [.error("Your connection has no client certificate; connect with one to bind it.")]
        case .certificateTaken: return [.error("That certificate already logs in to an account.")]
        case .tooManyCertificates:
            return [
                .error("An account binds at most \(Account.maximumCertificates) certificates; /cert del one first.")
            ]
        case .noSuchCertificate: return [.error("No certificate with that fingerprint logs you in (see /cert list).")]
        case .lastCredential:
            return [
                .error("That is the only way to log in to this account; add a password or another certificate first.")
            ]
        case .notOperator: return [.error("That command is for operators only.")]
        case .unavailable:
            return [.error("Accounts cannot be changed while the cluster's database is out of reach; nothing changed.")]
        }
    }
}
