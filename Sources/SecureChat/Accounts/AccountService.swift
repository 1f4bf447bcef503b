import Logging

/// Everything accounts need at run time, built once when accounts are on: the store, the hasher and its pool,
/// and the throttles. (Operator accounts are the hub's: `HubConfiguration.operatorAccounts`.)
///
/// On one node the store is the owner of the accounts and the throttles are this node's. In a cluster every
/// change and every password-attempt count goes through the database (``AccountDatabase``) first.
public final class AccountService: Sendable {
    public let store: AccountStore
    let database: (any AccountDatabase)?
    let limits: AccountLimits
    let hasher: PasswordHasher
    let pool: PasswordHashingPool
    let throttles: AccountThrottles
    /// Log-ins, wrong passwords and busy refusals are logged at a bounded rate: a storm of log-ins or of guesses
    /// must not fill the disk (each line that gets through says how many like it were dropped).
    let log = LogRateLimiter(maxPerInterval: 20, interval: .seconds(1))

    public init(store: AccountStore, database: (any AccountDatabase)? = nil, limits: AccountLimits = AccountLimits()) {
        self.store = store
        self.database = database
        self.limits = limits
        self.hasher = PasswordHasher(parameters: limits.hashParameters)
        self.pool = PasswordHashingPool(threads: limits.hashingThreads, queueCapacity: limits.hashingQueue)
        self.throttles = AccountThrottles(limits: limits)
    }

    /// Passwords are 10 to 128 characters.
    public static let passwordLengths = 10...128

    /// What `name` is, for the connection with client certificate `fingerprint`.
    func lookUp(_ name: Username, certificate fingerprint: String?) -> AccountLookup {
        switch store.status(ofKey: name.key) {
        case .unregistered: return .unregistered
        case .held: return .held
        case .registered(let account):
            // The file's loader checked that every stored name is valid.
            let registered = (try? Username.validate(account.name).get()) ?? name
            let matches = fingerprint.map { account.certificates.contains($0) } ?? false
            return .registered(registered, certificateMatches: matches, hasPassword: account.hash != nil)
        }
    }

    /// Checks `password` for the account under `key`, from `address`: throttled first, then hashed on the pool
    /// (never on the caller's thread). A right password whose hash was made with other parameters is re-hashed.
    /// In a cluster, a database that cannot be asked makes the check `.busy`: nothing is guessed unthrottled.
    func checkPassword(_ password: String, accountKey key: String, address: String) async -> PasswordCheck {
        do {
            return try await checkThrottledPassword(password, accountKey: key, address: address)
        } catch {
            return .busy
        }
    }

    private func checkThrottledPassword(_ password: String, accountKey key: String, address: String) async throws
        -> PasswordCheck
    {
        guard try await mayAttempt(accountKey: key, address: address) else { return .throttled }
        guard case .registered(let account) = store.status(ofKey: key), let stored = account.passwordHash,
            // A password outside the lengths was never registered: no hash needed to know it is wrong.
            Self.passwordLengths.contains(password.count)
        else {
            try await failed(accountKey: key, address: address)
            return .wrong
        }
        let hasher = self.hasher
        let verification: PasswordHasher.Verification?
        do {
            verification = try await pool.run { try hasher.verify(password, against: stored) }
        } catch {
            return .busy
        }
        switch verification {
        case nil: return .busy
        case .mismatch:
            try await failed(accountKey: key, address: address)
            return .wrong
        case .match(let rehashed)?:
            if account.oneTime == true {
                // Used up: nobody can log in with it again. Its owner, logged in now, sets a new one. Not logged
                // in unless that is recorded: a one-time password that still worked elsewhere would not be one.
                try await update(key: key) {
                    $0.hash = nil
                    $0.oneTime = nil
                }
            } else if let rehashed {
                _ = try? await update(key: key) { $0.hash = rehashed.phc }
            }
            return .correct
        }
    }

    /// Records a successful log-in (its time only: a failure to record it is no reason to refuse the log-in).
    func loggedIn(key: String) async {
        let now = Timestamp.now()
        _ = try? await update(key: key) { $0.lastLogin = now }
    }

    // MARK: - Through the database in a cluster, in the store on one node

    func register(_ account: Account) async throws -> AccountStore.RegisterOutcome {
        guard let database else { return store.register(account) }
        return try await database.register(account, capacity: store.capacity, now: .now())
    }

    /// Applies `change` to the account under `key`; true if there was one.
    @discardableResult
    func update(key: String, _ change: @escaping @Sendable (inout Account) -> Void) async throws -> Bool {
        guard let database else { return store.update(key: key, change) }
        return try await database.update(key: key, change) != nil
    }

    func remove(key: String, holdUntil: Timestamp? = nil) async throws -> Account? {
        guard let database else { return store.remove(key: key, holdUntil: holdUntil) }
        return try await database.remove(key: key, holdUntil: holdUntil)
    }

    private func mayAttempt(accountKey: String, address: String) async throws -> Bool {
        guard let database else { return throttles.mayAttempt(accountKey: accountKey, address: address) }
        return try await database.mayAttemptPassword(
            accountKey: accountKey, addressKey: AccountThrottles.addressKey(address), limits: limits)
    }

    private func failed(accountKey: String, address: String) async throws {
        guard let database else { return throttles.failed(accountKey: accountKey, address: address) }
        try await database.passwordFailed(
            accountKey: accountKey, addressKey: AccountThrottles.addressKey(address), limits: limits)
    }

    func shutdown() async {
        await pool.shutdown()
    }
}
