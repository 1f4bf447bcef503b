import NIOCore

/// The layer under a listener's chat pipeline: plaintext or TLS. The listener (`ChatListener`) admits, builds
/// the same pipeline on top of whichever layer it has, and starts the session once the layer is established;
/// everything that differs between the two ports is answered here, so the listener never asks which one it is.
protocol TransportLayer: Sendable {
    /// Named in the logs (`transport`) and in the per-listener connection gauges.
    var kind: ListenerKind { get }

    /// Whether a client refused at accept is told why in one line. A TLS client would read a plaintext line as
    /// a broken handshake, so only a plaintext one is told.
    var tellsRefusalsInALine: Bool { get }

    /// Whether an address on the ban list must still get as far as the handshake. Only a handshake can show an
    /// operator certificate, and an operator must never be locked out; the hub then refuses the banned rest at
    /// login.
    var letsBannedAddressesReachHandshake: Bool { get }

    /// The handler a line session's outbox may write to directly (`OutboundByteWriter`): this layer's first handler
    /// that changes the bytes, or `socketWriter` (the pipeline's first handler) if none does. After ``install``.
    func outboundWriter(in channel: any Channel, socketWriter: SocketWriter) -> (any OutboundByteWriter)?

    /// The line decoder for the bytes this layer hands up.
    func lineDecoder(maximumLength: Int) -> LineDecoder

    /// Adds the layer's handlers to `channel`'s pipeline, on its event loop, after `socketWriter` (the pipeline's
    /// first handler, if there is one; the layer may write to it directly) and before the chat handlers.
    /// The future succeeds once the layer is established, and fails when it never will be: either way it has
    /// been counted and, where it is news, logged here, so the listener only starts the session or closes.
    /// `acceptedAt` is when the listener accepted the connection (a handshake is timed from it).
    func install(
        on channel: any Channel, above socketWriter: SocketWriter?, log: ConnectionLog, acceptedAt: NIODeadline
    )
        throws
        -> EventLoopFuture<EstablishedTransport>
}

/// What an established transport layer tells the session about the client.
struct EstablishedTransport: Sendable, Equatable {
    /// How the client came in: shown in its greeting and in `/whois`.
    let transport: Transport
    /// SHA-256 of a verified client certificate (TLS only), for the operator fingerprints.
    let peerCertificateFingerprint: String?
    /// The client chose `http/1.1` by ALPN in its handshake: a browser, known without waiting for its first
    /// bytes.
    let speaksHTTP: Bool

    /// The plaintext layer is established as soon as the socket is accepted, and knows nothing of the client.
    static let plaintext = EstablishedTransport(
        transport: .plaintext, peerCertificateFingerprint: nil, speaksHTTP: false)
}
