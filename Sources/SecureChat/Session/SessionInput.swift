/// What a connection's input decoder reports, with the line's bytes already sanitised into text.
public enum SessionInput: Sendable, Equatable {
    /// One line, sanitised (see `TextSanitizer`). `role` is what a typed (JSON) request says the line is meant
    /// as; nil for a line a user typed, which cannot say it.
    case line(String, role: Role? = nil)
    /// A line over the length limit was discarded.
    case overlong
    /// The client spoke TLS on the plaintext port.
    case tlsOnPlaintextPort

    /// What a JSON `password` or `login` request says beyond its line (the WebSocket codec marks the line with
    /// `ClientMessage.Role`), so that a password is never taken as a name everyone would see, and a name at the
    /// password prompt is a name however long.
    public enum Role: Sendable, Equatable {
        case password
        case login
    }
}
