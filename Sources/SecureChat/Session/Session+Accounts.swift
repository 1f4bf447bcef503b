import Logging

/// Carrying out the account actions: the password check, account commands, and the record of a log-in.
extension Session {
    /// Checks a password on the hashing pool. Logged without the password, ever.
    func checkPassword(_ password: String, for account: Username) async -> PasswordCheck {
        guard let accounts = services.accounts else { return .wrong }
        let check = await accounts.checkPassword(password, accountKey: account.key, address: info.address)
        let metadata: Logger.Metadata = [
            "connection": "\(info.id)", "peer": "\(info.address)", "account": "\(account)",
        ]
        switch check {
        case .correct: break
        case .wrong: accounts.log.log("wrong password", metadata: metadata, to: services.logger)
        case .throttled: accounts.log.log("password attempt throttled", metadata: metadata, to: services.logger)
        case .busy:
            accounts.log.log(
                "password check refused: the hashing pool is full", metadata: metadata, level: .warning,
                to: services.logger)
        }
        return check
    }

    /// Carries out an account command, and tells the hub what `/whois` must now say. Logged without passwords.
    func perform(_ request: AccountRequest) async -> AccountReply {
        guard let accounts = services.accounts else { return .notOperator }
        let isOperator: Bool
        switch request {
        case .drop, .reset: isOperator = await services.hub.isOperator(info.id)
        default: isOperator = false
        }
        let caller = AccountService.Caller(address: info.address, certificate: info.certificateFingerprint)
        let reply = await accounts.perform(request, from: caller, isOperator: isOperator)
        switch reply {
        case .registered(let name, let byCertificate):
            await services.hub.setAccount(info.id, byCertificate ? .certificate : .password)
            log.log(.info, "registered", metadata: ["account": "\(name)", "certificate": "\(byCertificate)"])
        case .unregistered(let name, _):
            await services.hub.setAccount(info.id, nil)
            log.log(.info, "unregistered", metadata: ["account": "\(name)"])
        case .dropped(let name):
            await services.hub.accountDropped(name)
            log.log(.notice, "account dropped by an operator", metadata: ["account": "\(name)"])
        case .reset(let name, _):
            log.log(.notice, "account password reset by an operator", metadata: ["account": "\(name)"])
        default:
            break
        }
        return reply
    }

    /// Records a log-in to an account the user proved is theirs, once the hub has admitted it.
    func loggedIn(to name: Username, by method: LoginMethod, _ outcome: LoginOutcome) async {
        guard case .loggedIn = outcome, let accounts = services.accounts else { return }
        await accounts.loggedIn(key: name.key)
        accounts.log.log(
            "logged in to an account",
            metadata: ["connection": "\(info.id)", "account": "\(name)", "method": "\(method)"], level: .info,
            to: services.logger)
    }
}
