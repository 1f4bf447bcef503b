/// Which listener a connection came in on.
enum ListenerKind: Sendable, CustomStringConvertible {
    case plaintext
    case tls

    var description: String { self == .plaintext ? "plaintext" : "tls" }
}
