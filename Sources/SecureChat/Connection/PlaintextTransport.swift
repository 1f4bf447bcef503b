import NIOCore

/// Bytes as they come: nothing to install, established at accept.
struct PlaintextTransport: TransportLayer {
    var kind: ListenerKind { .plaintext }

    var tellsRefusalsInALine: Bool { true }

    /// Nothing between the session and the socket writer.
    func outboundWriter(in channel: any Channel, socketWriter: SocketWriter) -> (any OutboundByteWriter)? {
        socketWriter
    }

    /// Without a handshake no client can show an operator certificate: a banned address is refused at accept.
    var letsBannedAddressesReachHandshake: Bool { false }

    /// A plaintext connection cannot tell a cut stream from a clean end, so a last line without newline is
    /// kept; a TLS ClientHello as the first bytes is reported, to tell the client it dialled the wrong port.
    func lineDecoder(maximumLength: Int) -> LineDecoder {
        LineDecoder(maximumLength: maximumLength, detectTLSClientHello: true, lastLineNeedsCleanEnd: false)
    }

    func install(
        on channel: any Channel, above socketWriter: SocketWriter?, log: ConnectionLog, acceptedAt: NIODeadline
    )
        throws
        -> EventLoopFuture<EstablishedTransport>
    {
        channel.eventLoop.makeSucceededFuture(.plaintext)
    }
}
