import NIOCore

/// What the hub (and a session, for its own answers) tells a member: facts with their fields, not text. Each
/// wire format renders them (``LineRenderer``, ``JSONRenderer``); a fan-out renders an event once per format
/// in use, so a room of 10,000 still shares one buffer per format.
public indirect enum ChatEvent: Sendable, Equatable {
    /// A server notice (`* text`).
    case notice(String)
    /// Your last request did nothing (`! text`).
    case error(String)
    /// You are logged in. `account` says how a registered name was proved.
    case welcome(name: String, room: RoomName, others: Int, account: LoginMethod?)
    /// You are now in `room`, with `members` people in it (after a join or a leave; not at login).
    case entered(room: RoomName, members: Int)
    /// A chat line in `room`.
    case said(from: String, text: String, room: RoomName)
    /// `name` came into `room`.
    case joined(name: String, room: RoomName)
    /// `name` went out of `room`; `text` says how (`alice left #lobby (quit: "bye")`, a kick, a ban, a move).
    case left(name: String, room: RoomName, text: String)
    /// A direct message to you.
    case directMessage(from: String, text: String)
    /// Your direct message went to `to`.
    case directMessageSent(to: String, text: String)
    /// A room's history follows: `count` replayed events, then `historyEnd`.
    case historyStart(room: RoomName, count: Int)
    case historyEnd(room: RoomName)
    /// An event of a room's history, with the time it first happened.
    case replayed(ChatEvent, at: Timestamp)
    /// `/users`.
    case users(UserList)
    /// `/rooms`.
    case rooms(RoomList)
    /// `/whois`. `showsAccount` on a server with accounts: only there does the answer say whether the name is
    /// registered.
    case whois(WhoisListing, showsAccount: Bool)
    /// `/stats`: the hub's report, with the asker's own connection time and transport (which the session keeps).
    case stats(StatisticsReport, connectedAt: Timestamp, transport: Transport)
    /// The answer to `/ping`, after everything queued before it.
    case pong
    /// The name is registered: its password is asked for.
    case passwordRequired(name: String, text: String)
    /// A line another node rendered, or one stored by an older schema: shown as it is on the line protocol, as a
    /// `line` object in JSON. Only the cluster's relays and stored rows still carry these.
    case preformatted(ByteBuffer)
}
