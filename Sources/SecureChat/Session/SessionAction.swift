/// One step the state machine asks its session to carry out, in order.
public enum SessionAction: Sendable, Equatable {
    /// A `* ` line to this client.
    case notice(String)
    /// A `! ` line to this client.
    case error(String)
    /// Ask the hub to log in under this name; feed its reply back with `SessionStateMachine.receive(_:)`.
    case login(Username)
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
}
