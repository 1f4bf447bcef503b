/// Settings the hub needs; a slice of the server's `Configuration`.
public struct HubConfiguration: Sendable {
    /// Lines of history kept per room.
    public var historyLines: Int = 50
    /// How many rooms may exist at once, `#lobby` included.
    public var maximumRooms: Int = 1000
    /// SHA-256 fingerprints (lowercase hex, no colons) of TLS client certificates whose holders are operators.
    /// When empty, the first user to log in is operator and the role passes on when they leave.
    public var operatorFingerprints: Set<String> = []
    /// Rooms with more members than this do not announce joins and leaves (kicks and bans still are).
    public var announceLimit: Int = 500

    public init(
        historyLines: Int = 50,
        maximumRooms: Int = 1000,
        operatorFingerprints: Set<String> = [],
        announceLimit: Int = 500
    ) {
        self.historyLines = historyLines
        self.maximumRooms = maximumRooms
        self.announceLimit = announceLimit
        self.operatorFingerprints = Set(operatorFingerprints.map(Self.normalizeFingerprint))
    }

    /// `AB:CD:...` or `abcd...` → `abcd...`.
    public static func normalizeFingerprint(_ text: String) -> String {
        text.lowercased().filter { $0 != ":" }
    }
}

/// The answer to `Hub.login`.
public enum LoginOutcome: Sendable, Equatable {
    case loggedIn(room: RoomName, isOperator: Bool)
    /// Someone has that name already (compared ignoring case).
    case nameTaken
    /// The name or the address is banned; the ban's summary says by whom and why.
    case banned(String)
}

/// The answer to the operator commands.
public enum OperatorOutcome: Sendable, Equatable {
    case done
    case notOperator
    case noSuchUser
    case cannotTargetSelf
    /// `/unban` found nothing to lift.
    case notBanned
}

/// The answer to `Hub.directMessage`.
public enum DirectMessageOutcome: Sendable, Equatable {
    case sent
    case noSuchUser
    case toSelf
}

/// The answer to `Hub.join`.
public enum JoinOutcome: Sendable, Equatable {
    case joined
    case alreadyThere
    case tooManyRooms
}

/// The answer to `Hub.leaveRoom`.
public enum LeaveRoomOutcome: Sendable, Equatable {
    case movedToLobby
    case alreadyInLobby
}

/// One line of `/users`.
public struct UserListing: Sendable, Equatable {
    public let name: String
    public let room: RoomName
    public let isOperator: Bool
    public let transport: Transport
}

/// One line of `/rooms`.
public struct RoomListing: Sendable, Equatable {
    public let name: RoomName
    public let members: Int
}

/// What `/whois` shows.
public struct WhoisListing: Sendable, Equatable {
    public let name: String
    public let room: RoomName
    public let isOperator: Bool
    public let transport: Transport
    public let connectedAt: Timestamp
    public let certificateFingerprint: String?
}

/// Server-wide figures for `/stats` and metrics.
public struct HubStatistics: Sendable, Equatable {
    public var usersOnline: Int
    public var rooms: Int
    public var startedAt: Timestamp
    /// Chat lines and DMs accepted since start.
    public var messages: Int
    /// Lines handed to outboxes (one per recipient).
    public var deliveries: Int
    public var logins: Int
    /// Clients removed because their outbox overflowed.
    public var overflowEvictions: Int
}
