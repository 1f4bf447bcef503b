/// What a logged-in session asks of the hub: one value per command that touches shared state. The session's
/// state machine produces these; `Hub.handle(_:from:)` answers each with a ``HubReply``.
///
/// Logging in needs more (the connection's facts and its outbox), so it has its own entry point, `Hub.login`;
/// leaving is `Hub.remove`, the one way out for every reason.
public enum HubRequest: Sendable, Equatable {
    /// A chat line to the sender's room.
    case say(String)
    case directMessage(to: String, text: String)
    /// `/users`: the sender's room, or everyone.
    case users(all: Bool)
    case rooms
    case whois(String)
    case stats
    /// `/ping`: answered in the hub's order, after every line already queued for the sender.
    case ping
    case join(RoomName)
    /// `/leave`: back to `#lobby`.
    case leave
    case kick(String, reason: String?)
    case ban(String, reason: String?)
    case unban(String)
    /// `/bans [page]`, pages numbered from 1.
    case bans(page: Int)
    /// `/ignore [name]`: nil lists the names ignored.
    case ignore(String?)
    case unignore(String)
}
