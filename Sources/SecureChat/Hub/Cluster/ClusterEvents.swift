import NIOCore

// What the cluster hands the hub: committed room lines and who is logged in on the other nodes.

/// One committed room line, with its place in the room's order.
public struct RoomEvent: Sendable, Equatable {
    public let room: RoomName
    /// The room's sequence number: commit order, the same on every node.
    public let sequence: Int64
    /// When it was committed, for the history mark.
    public let time: Timestamp
    /// The node that published it, and the connection there that must not get it back (its sender).
    public let node: String
    public let except: ConnectionID?
    /// What to show; nil for a stored row with nothing printable left (it keeps its place in the order).
    public let event: ChatEvent?

    public init(
        room: RoomName, sequence: Int64, time: Timestamp, node: String, except: ConnectionID?, event: ChatEvent?
    ) {
        self.room = room
        self.sequence = sequence
        self.time = time
        self.node = node
        self.except = except
        self.event = event
    }

    /// A row as a line rendered elsewhere (an empty line: nothing to show).
    public init(
        room: RoomName, sequence: Int64, time: Timestamp, node: String, except: ConnectionID?, line: ByteBuffer
    ) {
        self.init(
            room: room, sequence: sequence, time: time, node: node, except: except,
            event: line.readableBytes > 0 ? .preformatted(line) : nil)
    }
}

/// A room's last committed lines and its sequence number, from the database.
public struct RoomSnapshot: Sendable {
    public let room: RoomName
    public let lastSequence: Int64
    /// Oldest first.
    public let history: [History.Entry]

    public init(room: RoomName, lastSequence: Int64, history: [History.Entry]) {
        self.room = room
        self.lastSequence = lastSequence
        self.history = history
    }
}

/// A member logged in on another node.
public struct RemotePresence: Sendable, Equatable {
    public let name: Username
    public let node: String
    public let room: RoomName
    /// Cluster-wide login order (a database sequence): the first-user operator rule goes by it.
    public let loginOrder: Int64
    public let transport: Transport
    public let certificateFingerprint: String?
    /// Their IP address, so an operator anywhere can ban their network.
    public let address: String
    public let connectedAt: Timestamp

    public init(
        name: Username, node: String, room: RoomName, loginOrder: Int64, transport: Transport,
        certificateFingerprint: String?, address: String, connectedAt: Timestamp
    ) {
        self.name = name
        self.node = node
        self.room = room
        self.loginOrder = loginOrder
        self.transport = transport
        self.certificateFingerprint = certificateFingerprint
        self.address = address
        self.connectedAt = connectedAt
    }
}

/// A change to who is logged in on another node.
public enum PresenceChange: Sendable, Equatable {
    case loggedIn(RemotePresence)
    case moved(nameKey: String, node: String, room: RoomName)
    case left(nameKey: String, node: String)
}

/// What `Hub.applyRoomEvents` found: a hole in a room's sequence that the cluster link must fill from the
/// database before anything after it is delivered.
public struct SequenceGap: Sendable, Equatable {
    public let room: RoomName
    /// The first missing sequence number and the one after the last missing.
    public let from: Int64
    public let upTo: Int64
}

/// The claim of a name in the cluster's presence table.
public enum NameClaim: Sendable, Equatable {
    /// Won, with the cluster-wide login order.
    case won(loginOrder: Int64)
    case taken
    /// The database could not be asked.
    case unavailable
}

/// A local member as the cluster's presence table must show them (to put back what an outage lost).
public struct LocalPresence: Sendable, Equatable {
    public let name: Username
    public let room: RoomName
}
