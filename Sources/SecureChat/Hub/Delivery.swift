/// Who a line goes to: the Go original's `BroadcastType`, extended with rooms.
public enum Delivery: Sendable, Equatable {
    /// Every logged-in user, in every room (server notices such as shutdown).
    case everyone
    /// Everyone in a room.
    case room(RoomName)
    /// Everyone in a room but one connection — chat lines, which are not echoed to their sender.
    case roomExcept(RoomName, ConnectionID)
    /// Everyone in a room but some: a chat line that people who `/ignore` its sender do not get.
    case roomExceptAll(RoomName, Set<ConnectionID>)
    /// One connection (replies, the sender's DM confirmation).
    case connection(ConnectionID)
}
