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

    public init(maximumLineBytes: Int, throttle: LineThrottle, tlsPort: Int?, maximumFailedLogins: Int = 10) {
        self.maximumLineBytes = maximumLineBytes
        self.throttle = throttle
        self.tlsPort = tlsPort
        self.maximumFailedLogins = maximumFailedLogins
    }
}
