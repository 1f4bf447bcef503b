/// Where room events (chat lines, joins, leaves, kicks) are committed before anyone sees them. A single node is a
/// cluster of one whose log commits at once, in memory (``LocalRoomLog``); a cluster's log commits in PostgreSQL
/// (``ClusterSeam``, implemented by `ClusterLink`). Either way the hub applies a committed event in one place
/// (`Hub.apply`): into the room's history, then to its members, in the room's order.
public protocol RoomLog: AnyObject, Sendable {
    /// False while events cannot be committed (a cluster's link to its database is down): chat lines, logins,
    /// moves and bans are refused.
    var isWritable: Bool { get }

    /// Appends `event` to `room`'s log. `except` is the connection of this node that must not get it back (its
    /// sender). With `confirmed`, a log that commits later returns a receipt that resolves at the commit (a chat
    /// line, whose sender is told if it failed); without, it keeps the event and retries while its link is down
    /// (a notice).
    func append(_ event: ChatEvent, to room: RoomName, except: ConnectionID?, confirmed: Bool) -> RoomLogAppend
}

/// What became of an appended event.
public enum RoomLogAppend: Sendable {
    /// Committed now, at this time: the hub applies it in the same step.
    case committed(at: Timestamp)
    /// Committed later: it comes back through `Hub.applyRoomEvents`, with its receipt resolved then (when one was
    /// asked for).
    case pending(CommitReceipt?)
}

/// A single node's log: every event is committed the moment it is appended, so the hub applies it in the step
/// that made it, and nothing is ever refused.
final class LocalRoomLog: RoomLog {
    var isWritable: Bool { true }

    func append(_ event: ChatEvent, to room: RoomName, except: ConnectionID?, confirmed: Bool) -> RoomLogAppend {
        .committed(at: .now())
    }
}
