/// The account commands: registering, passwords, certificates, giving a name up, and the operators' commands.
/// Every hash runs on the pool; every password attempt is throttled like a log-in.
extension AccountService {
    /// Who is asking: the connection's address and client certificate.
    struct Caller: Sendable {
        let address: String
        let certificate: String?
    }

    /// In a cluster, a database that cannot be asked makes the reply `.unavailable`, and nothing changed.
    func perform(_ request: AccountRequest, from caller: Caller, isOperator: Bool) async -> AccountReply {
        do {
            return try await performThrowing(request, from: caller, isOperator: isOperator)
        } catch {
            return .unavailable
        }
    }

    private func performThrowing(_ request: AccountRequest, from caller: Caller, isOperator: Bool) async throws
        -> AccountReply
    {
        switch request {
        case .register(let name, let password, let ownsAccount):
            return try await register(name, password: password, ownsAccount: ownsAccount, caller)
        case .changePassword(let name, let old, let new):
            guard Self.passwordLengths.contains(new.count) else { return .passwordLength }
            if let refusal = await verify(old, for: name, caller) { return refusal }
            guard let hash = await hash(new) else { return .busy }
            return try await update(key: name.key, { $0.hash = hash.phc })
                ? .passwordChanged : .notRegistered(name.display)
        case .addCertificate(let name):
            guard let fingerprint = caller.certificate else { return .noCertificate }
            if let owner = store.list.account(withCertificate: fingerprint) {
                return owner.key == name.key ? .certificateAdded(fingerprint) : .certificateTaken
            }
            guard case .registered(let account) = store.status(ofKey: name.key) else {
                return .notRegistered(name.display)
            }
            guard account.certificates.count < Account.maximumCertificates else { return .tooManyCertificates }
            try await update(key: name.key) { $0.certificates.append(fingerprint) }
            return .certificateAdded(fingerprint)
        case .listCertificates(let name):
            guard case .registered(let account) = store.status(ofKey: name.key) else {
                return .notRegistered(name.display)
            }
            return .certificates(account.certificates)
        case .deleteCertificate(let name, let typed):
            let fingerprint = CertificateFingerprint.normalize(typed)
            guard case .registered(let account) = store.status(ofKey: name.key) else {
                return .notRegistered(name.display)
            }
            guard account.certificates.contains(fingerprint) else { return .noSuchCertificate }
            guard account.hash != nil || account.certificates.count > 1 else { return .lastCredential }
            try await update(key: name.key) { $0.certificates.removeAll { $0 == fingerprint } }
            return .certificateRemoved(fingerprint)
        case .unregister(let name, let password):
            if let refusal = await verify(password, for: name, caller) { return refusal }
            let until = Timestamp(secondsSinceEpoch: Timestamp.now().secondsSinceEpoch + HeldName.holdSeconds)
            guard try await remove(key: name.key, holdUntil: until) != nil else { return .notRegistered(name.display) }
            return .unregistered(name.display, heldUntil: until)
        case .drop(let typed):
            guard isOperator else { return .notOperator }
            guard let account = try await remove(key: Username.key(for: typed)) else {
                return .notRegistered(TextSanitizer.bounded(String(typed.prefix(Username.maximumLength))))
            }
            return .dropped(account.name)
        case .reset(let typed):
            guard isOperator else { return .notOperator }
            let key = Username.key(for: typed)
            guard case .registered(let account) = store.status(ofKey: key) else {
                return .notRegistered(TextSanitizer.bounded(String(typed.prefix(Username.maximumLength))))
            }
            let password = Self.oneTimePassword()
            guard let hash = await hash(password) else { return .busy }
            try await update(key: key) {
                $0.hash = hash.phc
                $0.oneTime = true
            }
            return .reset(account.name, oneTimePassword: password)
        }
    }

    private func register(
        _ name: Username, password: String?, ownsAccount: Bool, _ caller: Caller
    ) async throws -> AccountReply {
        if let password, !Self.passwordLengths.contains(password.count) { return .passwordLength }
        if password == nil, caller.certificate == nil { return .noCertificate }
        if case .registered(let account) = store.status(ofKey: name.key) {
            // The owner of an account without a password (its one-time password used up) sets a new one.
            guard ownsAccount, account.hash == nil, let password else { return .alreadyRegistered(account.name) }
            guard let hash = await hash(password) else { return .busy }
            try await update(key: name.key) { $0.hash = hash.phc }
            return .passwordSet(account.name)
        }
        if let certificate = caller.certificate, password == nil,
            store.list.account(withCertificate: certificate) != nil
        {
            return .certificateTaken
        }
        guard throttles.admitRegistration(address: caller.address) else { return .registeringTooFast }
        var hash: PasswordHash?
        if let password {
            guard let made = await self.hash(password) else { return .busy }
            hash = made
        }
        let account = Account(
            name: name, hash: hash, certificates: password == nil ? [caller.certificate!] : [], created: .now(),
            lastLogin: .now())
        switch try await register(account) {
        case .registered: return .registered(name.display, byCertificate: password == nil)
        case .taken: return .alreadyRegistered(name.display)
        case .held: return .held(name.display)
        case .full: return .full
        }
    }

    /// Nil when `password` is the account's; otherwise why not (throttled, busy, wrong).
    private func verify(_ password: String, for name: Username, _ caller: Caller) async -> AccountReply? {
        switch await checkPassword(password, accountKey: name.key, address: caller.address) {
        case .correct: return nil
        case .wrong: return .wrongPassword
        case .throttled: return .throttled
        case .busy: return .busy
        }
    }

    /// A new hash with today's parameters, on the pool; nil when the pool is full.
    private func hash(_ password: String) async -> PasswordHash? {
        let hasher = self.hasher
        return try? await pool.run { try hasher.hash(password) }
    }

    /// 16 characters from a 32-letter alphabet without look-alikes (80 bits).
    static func oneTimePassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var random = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(random.next(upperBound: UInt32(alphabet.count)))] })
    }
}
