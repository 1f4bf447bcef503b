import NIOCore

/// Settings the hub needs; a slice of the server's `Configuration`.
public struct HubConfiguration: Sendable {
    /// Lines of history kept per room.
    public var historyLines: Int = 50
    /// How many rooms may exist at once, `#lobby` included.
    public var maximumRooms: Int = 1000
    /// SHA-256 fingerprints (lowercase hex, no colons) of TLS client certificates whose holders are operators.
    /// When empty, the first user to log in is operator and the role passes on when they leave.
    public var operatorFingerprints: Set<String> = []
    /// Look-alike keys of accounts whose owners are operators once logged in to them (`--operator-account`).
    /// Like configured fingerprints, they replace the first-user rule.
    public var operatorAccounts: Set<String> = []
    /// Rooms with more members than this do not announce joins and leaves (kicks and bans still are).
    public var announceLimit: Int = 500
    /// Under the first-user rule, an operator who has sent nothing for this long hands the role to the
    /// longest-connected user who has sent something within it.
    public var operatorIdleLimit: TimeAmount = .hours(1)
    /// Log chat lines and DMs (off by default: people's messages are theirs).
    public var logMessages = false
    /// Bans (`/ban`) one operator may make at once, and then per minute.
    public var banBurst = 10
    public var bansPerMinute = 6.0

    /// A fresh ban budget for one operator.
    var banBudget: RateLimiter { RateLimiter(ratePerSecond: bansPerMinute / 60, burst: banBurst) }

    /// History bytes (lines as delivered) per room and in all rooms together: past either, the oldest go.
    public var historyBytesPerRoom = 64 * 1024
    public var historyBytesTotal = 16 << 20
    /// Direct messages one user may receive at once, and then per second, from everyone together.
    public var directMessageBurst = 20
    public var directMessagesPerSecond = 5.0
    /// New rooms one address (IPv6: one /64) may open at once, and then per minute.
    public var roomCreationBurst = 5
    public var roomsCreatedPerMinute = 2.0

    public init(
        historyLines: Int = 50,
        maximumRooms: Int = 1000,
        operatorFingerprints: Set<String> = [],
        operatorAccounts: Set<String> = [],
        announceLimit: Int = 500,
        logMessages: Bool = false,
        historyBytesPerRoom: Int = 64 * 1024,
        historyBytesTotal: Int = 16 << 20,
        roomsCreatedPerMinute: Double = 2,
        directMessagesPerSecond: Double = 5
    ) {
        self.roomsCreatedPerMinute = roomsCreatedPerMinute
        self.directMessagesPerSecond = directMessagesPerSecond
        self.historyBytesPerRoom = historyBytesPerRoom
        self.historyBytesTotal = historyBytesTotal
        self.logMessages = logMessages
        self.historyLines = historyLines
        self.maximumRooms = maximumRooms
        self.announceLimit = announceLimit
        // Canonical, so a TLS peer's fingerprint matches as it is; the command line checks they are SHA-256.
        self.operatorFingerprints = Set(operatorFingerprints.map(CertificateFingerprint.normalize))
        self.operatorAccounts = Set(operatorAccounts.map(Username.key(for:)))
    }
}
