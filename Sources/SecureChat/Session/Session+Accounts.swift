import Logging

/// Carrying out the account actions: the password check and the log-in to an account.
extension Session {
    /// Checks a password on the hashing pool. Logged without the password, ever.
    func checkPassword(_ password: String, for account: Username) async -> PasswordCheck {
        guard let accounts = context.accounts else { return .wrong }
        let check = await accounts.checkPassword(password, accountKey: account.key, address: info.address)
        let metadata: Logger.Metadata = [
            "connection": "\(info.id)", "peer": "\(info.address)", "account": "\(account)",
        ]
        switch check {
        case .correct: break
        case .wrong: accounts.log.log("wrong password", metadata: metadata, to: context.logger)
        case .throttled: accounts.log.log("password attempt throttled", metadata: metadata, to: context.logger)
        case .busy:
            accounts.log.log(
                "password check refused: the hashing pool is full", metadata: metadata, level: .warning,
                to: context.logger)
        }
        return check
    }

    /// Carries out an account command, and tells the hub what `/whois` must now say. Logged without passwords.
    func perform(_ request: AccountRequest) async -> AccountReply {
        guard let accounts = context.accounts else { return .notOperator }
        let isOperator: Bool
        switch request {
        case .drop, .reset: isOperator = await context.hub.isOperator(info.id)
        default: isOperator = false
        }
        let caller = AccountService.Caller(address: info.address, certificate: info.certificateFingerprint)
        let reply = await accounts.perform(request, from: caller, isOperator: isOperator)
        switch reply {
        case .registered(let name, let byCertificate):
            await context.hub.setAccount(info.id, byCertificate ? .certificate : .password)
            log.log(.info, "registered", metadata: ["account": "\(name)", "certificate": "\(byCertificate)"])
        case .unregistered(let name, _):
            await context.hub.setAccount(info.id, nil)
            log.log(.info, "unregistered", metadata: ["account": "\(name)"])
        case .dropped(let name):
            await context.hub.accountDropped(name)
            log.log(.notice, "account dropped by an operator", metadata: ["account": "\(name)"])
        case .reset(let name, _):
            log.log(.notice, "account password reset by an operator", metadata: ["account": "\(name)"])
        default:
            break
        }
        return reply
    }

    /// Logs in to an account the user has proved is theirs, taking the name over from an older connection.
    func logIn(to name: Username, by method: LoginMethod) async -> LoginOutcome {
        let outcome: LoginOutcome
        if let cluster = context.cluster {
            if let refusal = await context.hub.reserveLogin(info, name: name, account: method) { return refusal }
            // The departure of an older connection under the name (just taken over, or just gone) is committed
            // first: committed after the take-over, it would delete the new presence row.
            let claim =
                await cluster.queuedCommitted()
                ? await cluster.claim(name, for: info, takingOver: true) : NameClaim.unavailable
            outcome = await context.hub.completeLogin(info, name: name, outbox: outbox, claim: claim, account: method)
        } else {
            outcome = await context.hub.login(info, name: name, outbox: outbox, account: method)
        }
        if case .loggedIn = outcome {
            await context.accounts?.loggedIn(key: name.key)
            context.accounts?.log.log(
                "logged in to an account",
                metadata: ["connection": "\(info.id)", "account": "\(name)", "method": "\(method)"], level: .info,
                to: context.logger)
        }
        return outcome
    }
}
