import NIOCore

/// The hub's answer to a ``HubRequest``: facts, not text. The session's state machine turns it into lines.
public enum HubReply: Sendable, Equatable {
    /// Nothing to tell the sender (a chat line, a ping: what there was to say, the hub delivered).
    case done
    /// In a cluster: what the sender asked must be committed first. The session awaits the receipt, sends
    /// `confirmation` (if any) once it is committed, and feeds back `.commit` with the outcome.
    case pending(CommitReceipt, confirmation: ChatEvent?)
    /// How a `.pending` request fared.
    case commit(CommitOutcome)
    case login(Username, LoginOutcome)
    case directMessage(to: String, DirectMessageOutcome)
    case users(UserList)
    case rooms(RoomList)
    case whois(String, WhoisListing?)
    case stats(StatisticsReport)
    case join(RoomName, JoinOutcome)
    case leave(LeaveRoomOutcome)
    /// `/kick`, `/ban` and `/unban` (`lifted` is true for an `/unban`).
    case moderation(target: String, OperatorOutcome, lifted: Bool)
    /// `/bans`: nil for a non-operator.
    case bans(BanPage?)
    case ignore(IgnoreOutcome)
}
