/// How fast passwords may be tried and names registered. Token buckets: `burst` at once, then `perSecond`.
public struct AccountLimits: Sendable {
    /// Password attempts for one account from one address (an IPv6 address counts by its /64).
    public var attemptsPerAccountAndAddress = Bucket(perSecond: 1.0 / 60, burst: 5)
    /// Password attempts from one address, whatever the account: a guesser cannot spread over names.
    public var attemptsPerAddress = Bucket(perSecond: 1.0 / 6, burst: 20)
    /// Registrations from one address.
    public var registrationsPerAddress = Bucket(perSecond: 1.0 / 600, burst: 3)
    /// Registrations on the whole server.
    public var registrationsOverall = Bucket(perSecond: 1, burst: 30)
    /// Threads and waiting room of the hashing pool.
    public var hashingThreads = PasswordHashingPool.defaultThreads
    public var hashingQueue = PasswordHashingPool.defaultQueueCapacity
    /// The cost of new hashes (tests lower it; a server keeps OWASP's).
    public var hashParameters = PasswordHashParameters.owasp

    public struct Bucket: Sendable {
        public var perSecond: Double
        public var burst: Int

        public init(perSecond: Double, burst: Int) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    public init() {}
}
