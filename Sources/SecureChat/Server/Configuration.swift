import NIOCore

/// Everything an operator can set; defaults are DESIGN.md's.
public struct Configuration: Sendable {
    /// Address to bind both listeners to; `nil` means all interfaces (IPv4 and IPv6).
    public var host: String = "::"
    /// Plaintext port; 0 picks a free one (tests).
    public var plaintextPort: Int = 9000
    /// Lines of history per room.
    public var historyLines: Int = 50
    /// Longest accepted input line in bytes (without the newline).
    public var maximumLineBytes: Int = 2048
    /// Bytes a client's outbox may hold before the client is evicted.
    public var outboxBytes: Int = 1 << 20
    /// From accept to a valid username (TLS handshake included).
    public var loginTimeout: TimeAmount = .seconds(30)
    /// How long a client's socket may stay unwritable (it stopped reading) before eviction.
    public var writeTimeout: TimeAmount = .seconds(30)
    /// How many rooms may exist at once.
    public var maximumRooms: Int = 1000
    /// Where bans are kept across restarts; `nil` keeps them in memory only.
    public var banFilePath: String?
    /// SHA-256 fingerprints of TLS client certificates whose holders are operators.
    public var operatorFingerprints: [String] = []

    public init() {}

    var hubConfiguration: HubConfiguration {
        HubConfiguration(
            historyLines: historyLines, maximumRooms: maximumRooms, operatorFingerprints: Set(operatorFingerprints)
        )
    }
}
