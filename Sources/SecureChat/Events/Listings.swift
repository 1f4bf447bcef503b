// What the hub lists for `/users`, `/rooms` and `/whois`.

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
    /// How they logged in to their registered name; nil when the name is not registered to them.
    public var account: LoginMethod? = nil
}

/// `/users`: at most ``Hub/listLimit`` entries, sorted by name, and how many there are in all.
public struct UserList: Sendable, Equatable {
    /// nil for `/users all`, else the sender's room.
    public let room: RoomName?
    public let entries: [UserListing]
    public let total: Int
}

/// `/rooms`: at most ``Hub/listLimit`` rooms, sorted by name, and how many there are in all.
public struct RoomList: Sendable, Equatable {
    public let entries: [RoomListing]
    public let total: Int
}

/// `/stats`: the sender's figures and the server's, at one moment.
public struct StatisticsReport: Sendable, Equatable {
    public let messagesSent: Int
    public let server: HubStatistics
    public let now: Timestamp
    /// In a cluster: which node answered, and how many are up.
    public var node: NodeReport? = nil
}

/// `/stats` in a cluster: the node the user is on and how many nodes are up.
public struct NodeReport: Sendable, Equatable {
    public let name: String
    public let nodesUp: Int
}
