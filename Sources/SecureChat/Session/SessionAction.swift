/// One step the state machine asks its session to carry out, in order.
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
    /// Ask the hub; feed its reply back with `SessionStateMachine.receive(_:)`.
    case request(HubRequest)
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
