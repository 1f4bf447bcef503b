import Logging

/// Everything accounts need at run time, built once when accounts are on: the store, the hasher and its pool,
/// and the throttles. (Operator accounts are the hub's: `HubConfiguration.operatorAccounts`.)
public final class AccountService: Sendable {
    public let store: AccountStore
    let hasher: PasswordHasher
    let pool: PasswordHashingPool
    let throttles: AccountThrottles
    /// Log-ins, wrong passwords and busy refusals are logged at a bounded rate: a storm of log-ins or of guesses
    /// must not fill the disk (each line that gets through says how many like it were dropped).
    let log = LogRateLimiter(maxPerInterval: 20, interval: .seconds(1))

    public init(store: AccountStore, limits: AccountLimits = AccountLimits()) {
        self.store = store
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
    func checkPassword(_ password: String, accountKey key: String, address: String) async -> PasswordCheck {
        guard throttles.mayAttempt(accountKey: key, address: address) else { return .throttled }
        guard case .registered(let account) = store.status(ofKey: key), let stored = account.passwordHash,
            // A password outside the lengths was never registered: no hash needed to know it is wrong.
            Self.passwordLengths.contains(password.count)
        else {
            throttles.failed(accountKey: key, address: address)
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
            throttles.failed(accountKey: key, address: address)
            return .wrong
        case .match(let rehashed)?:
            if account.oneTime == true {
                // Used up: nobody can log in with it again. Its owner, logged in now, sets a new one.
                store.update(key: key) {
                    $0.hash = nil
                    $0.oneTime = nil
                }
            } else if let rehashed {
                store.update(key: key) { $0.hash = rehashed.phc }
            }
            return .correct
        }
    }

    /// Records a successful log-in.
    func loggedIn(key: String) {
        let now = Timestamp.now()
        store.update(key: key) { $0.lastLogin = now }
    }

    func shutdown() async {
        await pool.shutdown()
    }
}
