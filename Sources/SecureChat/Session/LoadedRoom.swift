/// A room's history as the database gave it (`.loadRoom`), for the hub's join (`.joinLoaded`). A class, so
/// that actions carrying it compare by identity, the same read, where a snapshot has no equality of its own.
public final class LoadedRoom: Sendable, Equatable {
    public let snapshot: RoomSnapshot

    public init(_ snapshot: RoomSnapshot) {
        self.snapshot = snapshot
    }

    public var room: RoomName { snapshot.room }

    public static func == (lhs: LoadedRoom, rhs: LoadedRoom) -> Bool { lhs === rhs }
}
