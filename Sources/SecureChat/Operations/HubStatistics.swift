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
