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
}
