import NIOCore

/// One step the state machine asks its session to carry out, in order. An action that asks something (the hub,
/// the accounts, the database) is answered by feeding the answer back to the machine, whose actions for it run
/// before the next action.
public enum SessionAction: Sendable, Equatable {
    /// An event to this client: its outbox's format decides the bytes (``LineRenderer``, ``JSONRenderer``), so
    /// the machine says what happened, typed wherever the event has a case (a list, the password prompt), and
    /// never which format the client speaks.
    case show(ChatEvent)
    /// Ask the hub to log in under this name; feed its reply back with `SessionStateMachine.receive(_:)`.
    case login(Username)
    /// Look the name up among the accounts; feed the answer back with `receive(_:for:)`.
    case lookUpAccount(Username)
    /// Check a password for an account (throttled, on the hashing pool); feed the answer back with
    /// `receive(_:for:)`. The password is in this action and nowhere else: it is never logged or stored.
    case checkPassword(Username, password: String)
    /// Ask the hub to log in to an account, taking the name over from any older connection that holds it; feed
    /// its reply back with `receive(_:)` as for `.login`.
    case logInToAccount(Username, LoginMethod)
    /// An account command; feed the answer back with `receive(_:)`. Like `.checkPassword`, never logged.
    case account(AccountRequest)
    /// Ask the hub; feed its reply back with `SessionStateMachine.receive(_:to:)`.
    case request(HubRequest)
    /// In a cluster: wait until this session's chat lines sent so far are committed or refused (see
    /// `UncommittedLines`).
    case settleLines
    /// In a cluster: ask the hub to hold the name for this connection; feed its answer back with
    /// `receive(reservation:for:account:)`.
    case reserveName(Username, account: LoginMethod?)
    /// In a cluster, before taking a name over: wait until this node's queued departures are committed; feed
    /// back whether they were with `receive(departuresCommitted:for:account:)`.
    case commitDepartures(Username, LoginMethod)
    /// In a cluster: claim the held name in the database (from a connection that holds it, if `takingOver`);
    /// feed the claim back with `receive(_:for:account:)`.
    case claimName(Username, takingOver: Bool, account: LoginMethod?)
    /// In a cluster: ask the hub to admit the held name with the database's claim; feed its answer back as
    /// `HubReply.login`.
    case completeLogin(Username, NameClaim, account: LoginMethod?)
    /// In a cluster, `/join`: find out whether the hub keeps the room's lines and, if not, read its history
    /// from the database; feed the `RoomLoad` back with `receive(_:for:)`.
    case loadRoom(RoomName)
    /// Ask the hub to join the room with its history as the database had it; feed its reply back as to
    /// `.request(.join(room))`.
    case joinLoaded(LoadedRoom)
    /// In a cluster: a chat line that is being committed. The sender reads on: the session tells them if it is
    /// refused, and holds back when too many are in flight (`UncommittedLines`).
    case watchCommit(CommitReceipt)
    /// In a cluster: wait until what was asked is committed; feed the outcome back with
    /// `receive(committed:confirmation:)`.
    case awaitCommit(CommitReceipt, confirmation: ChatEvent?)
    /// The user is logged in: the login timer stops, the idle clock starts.
    case loggedIn
    /// A logged-in user did something (for the idle timeout).
    case active
    /// Count an event that does not end the connection.
    case count(ServerCounters.Event)
    /// End the connection: leave the hub, send what is queued, close.
    case close(CloseReason)

    /// A `* ` line to this client (a `notice` object in JSON).
    public static func notice(_ text: String) -> SessionAction { .show(.notice(text)) }
    /// A `! ` line to this client (an `error` object in JSON).
    public static func error(_ text: String) -> SessionAction { .show(.error(text)) }
}
