import NIOCore

/// What admitting an accepted socket gave: a connection ready for a session (`ChatServer.serve`), or one already
/// refused.
enum Admission: Sendable {
    case accepted(AcceptedConnection)
    case refused
}
