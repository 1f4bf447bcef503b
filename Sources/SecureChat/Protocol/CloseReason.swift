/// Why a connection ends, whoever ends it. One value carries everything each layer says about it: the
/// leave notice the room sees, the counter it bumps, and the reason the log gives.
public enum CloseReason: Sendable, Equatable {
    /// `/quit`, with the user's words if they gave any.
    case quit(message: String?)
    /// The peer closed or the connection failed.
    case connectionClosed
    /// The client's outbox overflowed: it reads far slower than the server writes to it.
    case sendQueueOverflow
    /// The socket stayed unwritable (the client stopped reading) for the write timeout.
    case writeTimeout
    /// Logged in and silent for the idle timeout.
    case idleTimeout
    /// No username (and, on the TLS port, no handshake) within the login timeout.
    case loginTimeout
    /// Kept sending over the rate limit.
    case flooding
    /// Too many refused usernames on one connection.
    case tooManyLoginAttempts
    /// The name or the address is banned.
    case banned
    /// An operator's `/kick` or `/ban`.
    case removedByOperator(Moderation)
    /// A TLS client dialled the plaintext port.
    case tlsOnPlaintextPort
    /// The TLS handshake failed or the peer left during it.
    case handshakeFailed
    /// Refused at accept by the connection limits (before any session existed).
    case refused
    /// The server is shutting down.
    case serverShutdown
    /// In a cluster: the member's node stopped answering and the others declared it down (or this node
    /// learned that it had been).
    case serverLost
    /// The user logged in to their account from another connection, which took the name over.
    case loggedInElsewhere

    /// An operator's removal of a user.
    public struct Moderation: Sendable, Equatable {
        public enum Action: String, Sendable {
            case kicked, banned
        }

        public let action: Action
        /// The operator's name as shown.
        public let by: String
        public let reason: String?

        public init(_ action: Action, by: String, reason: String?) {
            self.action = action
            self.by = by
            self.reason = reason
        }
    }

    /// What the room is told when a member leaves for this reason.
    public func leaveNotice(name: String, room: RoomName) -> String {
        switch self {
        case .removedByOperator(let moderation):
            let why = moderation.reason.map { " (\(Self.quoted($0)))" } ?? ""
            return "\(name) was \(moderation.action.rawValue) by \(moderation.by)\(why)"
        default:
            return "\(name) left \(room) (\(leaveText))"
        }
    }

    /// The parenthesised part of a leave notice, and the reason logs give.
    public var leaveText: String {
        switch self {
        case .quit(let message): return message.map { "quit: \(Self.quoted($0))" } ?? "quit"
        case .connectionClosed: return "connection closed"
        case .sendQueueOverflow: return "send queue overflow"
        case .writeTimeout: return "write timeout (client stopped reading)"
        case .idleTimeout: return "idle timeout"
        case .loginTimeout: return "login timeout"
        case .flooding: return "flooding"
        case .tooManyLoginAttempts: return "too many login attempts"
        case .banned: return "banned"
        case .removedByOperator(let moderation): return "\(moderation.action.rawValue) by \(moderation.by)"
        case .tlsOnPlaintextPort: return "TLS on plaintext port"
        case .handshakeFailed: return "TLS handshake failed"
        case .refused: return "refused by the connection limits"
        case .serverShutdown: return "server shutting down"
        case .serverLost: return "server lost"
        case .loggedInElsewhere: return "logged in elsewhere"
        }
    }

    /// Words a user wrote (a quit message, a kick or ban reason), in quotes so they cannot pass for the
    /// server's own text; a quote inside is escaped, so the user cannot close the quotes early either.
    ///
    /// Escaped scalar by scalar, never `Character` by `Character`: a quote followed by a combining scalar
    /// (U+034F, U+0301) is one `Character` that is not equal to `"`, and comparing whole characters let
    /// `/quit x"\u{34F}) * admin joined #lobby` close the quotes.
    static func quoted(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        result.append("\"")
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { result.append("\\") }
            result.append(scalar)
        }
        result.append("\"")
        return String(result)
    }

    /// Kicks and bans are announced even in rooms too crowded to announce ordinary departures.
    var isAlwaysAnnounced: Bool {
        if case .removedByOperator = self { return true }
        return false
    }

    /// The line the removed user gets before the connection closes, if any.
    var farewell: String? {
        if self == .loggedInElsewhere { return "You logged in from another connection." }
        if self == .serverLost {
            return "This server lost its place in the cluster (the other servers declared it down); please reconnect."
        }
        guard case .removedByOperator(let moderation) = self else { return nil }
        let why = moderation.reason.map { ": \(Self.quoted($0))" } ?? ""
        return "You were \(moderation.action.rawValue) by \(moderation.by)\(why)"
    }

    /// Closes the server decided on for a reason worth an operator's attention are logged at notice level;
    /// everyday departures at info.
    var isNoteworthy: Bool {
        switch self {
        case .sendQueueOverflow, .writeTimeout, .flooding, .tlsOnPlaintextPort, .removedByOperator: return true
        default: return false
        }
    }
}
