import NIOCore

/// What the listener hands to the accept loop: a connection ready for a session, or one already refused.
enum Admission: Sendable {
    case accepted(AcceptedConnection)
    case refused
}
