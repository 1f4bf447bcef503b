import NIOCore

/// A connection the listener accepted, its pipeline set up.
struct AcceptedConnection: Sendable {
    let id: ConnectionID
    let kind: ListenerKind
    let channel: any Channel
    /// The pipeline's last handler, which runs the session.
    let driver: SessionDriver
    let outbox: Outbox
    let address: String
    /// Holds the connection's place under the connection limits until the session ends.
    let ticket: ConnectionTicket
    /// Succeeds once the transport layer is established (at once on plaintext, after the TLS handshake), and
    /// fails, already counted and logged by the transport, when it never will be.
    let established: EventLoopFuture<EstablishedTransport>
    /// The login timer (running since accept) and, after login, the idle monitor.
    let timers: SessionTimers
    let log: ConnectionLog
    /// Tells a browser's request from a line-protocol client; nil with `--no-web`.
    let sniffer: ProtocolSniffer?
    /// Where a line session's outbox writes directly (the transport's `outboundWriter`): nil if nowhere.
    let directWriter: NIOLoopBound<any OutboundByteWriter>?
}
