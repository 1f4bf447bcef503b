/// What a connection's input decoder reports, with the line's bytes already sanitised into text.
public enum SessionInput: Sendable, Equatable {
    /// One line, sanitised (see `TextSanitizer`).
    case line(String)
    /// A line over the length limit was discarded.
    case overlong
    /// The client spoke TLS on the plaintext port.
    case tlsOnPlaintextPort
}
