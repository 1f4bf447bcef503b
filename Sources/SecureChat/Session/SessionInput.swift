/// What a connection's input decoder reports, with the line's bytes already sanitised into text.
public enum SessionInput: Sendable, Equatable {
    /// One line, sanitised (see `TextSanitizer`). `role` is what a typed (JSON) request says the line is meant
    /// as; nil for a line a user typed, which cannot say it.
    case line(String, role: LineRole? = nil)
    /// A line over the length limit was discarded.
    case overlong
    /// The client spoke TLS on the plaintext port.
    case tlsOnPlaintextPort

    /// What a typed request says its line is meant as (``LineRole``).
    public typealias Role = LineRole
}
