import Logging
import NIOCore

/// TLS through `OpenSSLHandler`, with the certificate current when the connection arrives. It counts and
/// times completed handshakes, and counts and logs failed ones (`tls_handshakes_failed` by reason).
struct TLSTransport: TransportLayer {
    let contexts: TLSContextStore
    /// How long to wait for the peer's close_notify after sending ours.
    let shutdownTimeout: TimeAmount
    let counters: ServerCounters
    let metrics: ServerMetrics
    /// Failed handshakes are logged at a bounded rate, with the server's other refusals.
    let refusalLog: LogRateLimiter
    /// Whether a client certificate may name an operator now (operator fingerprints configured, and client
    /// certificates asked for); read at every accept, since a reload may change it.
    let operatorsMayHoldCertificates: @Sendable () -> Bool

    var kind: ListenerKind { .tls }

    var tellsRefusalsInALine: Bool { false }

    /// Every byte goes through `OpenSSLHandler`, which is next to the socket writer.
    func outboundWriter(in channel: any Channel, socketWriter: SocketWriter) -> (any OutboundByteWriter)? {
        try? channel.pipeline.syncOperations.handler(type: OpenSSLHandler.self)
    }

    var letsBannedAddressesReachHandshake: Bool { operatorsMayHoldCertificates() }

    /// A TLS connection cut without close_notify may have been cut by anyone on the path, at any byte: its
    /// unfinished last line must not run as a whole line or command.
    func lineDecoder(maximumLength: Int) -> LineDecoder {
        LineDecoder(maximumLength: maximumLength, detectTLSClientHello: false, lastLineNeedsCleanEnd: true)
    }

    func install(
        on channel: any Channel, above socketWriter: SocketWriter?, log: ConnectionLog, acceptedAt: NIODeadline
    )
        throws
        -> EventLoopFuture<EstablishedTransport>
    {
        let pipeline = channel.pipeline.syncOperations
        let tls = try OpenSSLHandler(
            context: contexts.current, mode: .server, shutdownTimeout: shutdownTimeout, counters: counters, log: log,
            output: socketWriter
        )
        // Its promise must always be completed, even when the pipeline cannot take the handlers.
        let observer = TLSHandshakeObserver(eventLoop: channel.eventLoop)
        do {
            try pipeline.addHandler(tls)
            try pipeline.addHandler(observer)
        } catch {
            observer.handshake.fail(error)
            throw error
        }
        let counters = self.counters
        let metrics = self.metrics
        let refusalLog = self.refusalLog
        return observer.handshake.futureResult.flatMapErrorThrowing { error in
            Self.handshakeFailed(error, counters: counters, refusalLog: refusalLog, log: log)
            throw error
        }.map { completed in
            counters.increment(.tlsHandshakeCompleted)
            metrics.observeHandshake(.nanoseconds((NIODeadline.now() - acceptedAt).nanoseconds))
            return EstablishedTransport(
                transport: .tls(version: completed.protocolVersion, cipher: completed.cipher),
                peerCertificateFingerprint: completed.peerCertificateFingerprint,
                speaksHTTP: completed.applicationProtocol == TLSContext.httpProtocolName
            )
        }
    }

    /// Counts a failed handshake by its reason, and logs it unless it is the everyday kind.
    static func handshakeFailed(
        _ error: any Error, counters: ServerCounters, refusalLog: LogRateLimiter, log: ConnectionLog
    ) {
        if let tlsError = error as? TLSError {
            counters.recordHandshakeFailure(reason: tlsError.shortReason)
        } else {
            counters.recordHandshakeFailure(reason: "connection closed")
        }
        // A peer that connects and leaves without a word (port scanners, health checks) is not news.
        if let tlsError = error as? TLSError, tlsError.code == .eofDuringHandshake {
            log.log(.debug, "TLS peer left during the handshake")
            return
        }
        if error is ChannelError {
            log.log(.debug, "TLS connection closed before the handshake completed")
            return
        }
        refusalLog.log("TLS handshake failed", metadata: ["reason": "\(error)"], level: .info, to: log.logger)
    }
}
