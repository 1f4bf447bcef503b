/// What a session's rules depend on: a slice of the server's configuration, fixed for the connection's life.
public struct SessionSettings: Sendable {
    /// Longest input line in bytes, for the error that reports a longer one.
    public var maximumLineBytes: Int
    /// The rate limit and flood guard a logged-in user starts with.
    public var throttle: LineThrottle
    /// Where to point plaintext users who should switch to TLS; nil without a TLS listener.
    public var tlsPort: Int?
    /// Refused usernames one connection may try before it is closed: enough for any person, too few to make
    /// the hub a target (every well-formed attempt is a hub request).
    public var maximumFailedLogins: Int
    /// Accounts are on (`--account-file`): typed names are looked up, registered ones need their owner.
    public var accounts: Bool
    /// Wrong passwords one connection may type; the last one closes it.
    public var maximumWrongPasswords = 3
    /// The server is a node of a cluster (`--cluster`): names are claimed in the database, chat lines are
    /// committed before they are delivered, rooms may have to be read from the database.
    public var clustered: Bool

    public init(
        maximumLineBytes: Int, throttle: LineThrottle, tlsPort: Int?, maximumFailedLogins: Int = 10,
        accounts: Bool = false, clustered: Bool = false
    ) {
        self.maximumLineBytes = maximumLineBytes
        self.throttle = throttle
        self.tlsPort = tlsPort
        self.maximumFailedLogins = maximumFailedLogins
        self.accounts = accounts
        self.clustered = clustered
    }
}
