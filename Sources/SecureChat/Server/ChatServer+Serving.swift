import NIOCore

extension ChatServer {
    /// Registers the connection and starts its session: at once on the plaintext port, after the handshake on
    /// the TLS port. The session runs in the connection's `SessionDriver`; `ended` undoes the registration once
    /// the session has ended and the channel is closed.
    static func serve(_ connection: AcceptedConnection, _ context: ServerContext) {
        let tls = connection.kind == .tls
        let counters = context.counters
        counters.adjustOpenConnections(tls: tls, by: 1)
        context.connections.withLockedValue { $0.outboxes[connection.id] = connection.outbox }
        // Kept by the connection for its whole life: captures only what it needs (not all of the context).
        let registry = context.connections
        let id = connection.id
        let ticket = connection.ticket
        let ended: @Sendable () -> Void = {
            let waiters = registry.withLockedValue { registry -> [CheckedContinuation<Void, Never>] in
                registry.outboxes[id] = nil
                guard registry.outboxes.isEmpty else { return [] }
                defer { registry.emptyWaiters = [] }
                return registry.emptyWaiters
            }
            counters.adjustOpenConnections(tls: tls, by: -1)
            ticket.release()
            for waiter in waiters { waiter.resume() }
        }
        if !context.isAccepting {
            connection.outbox.close(reason: .serverShutdown)
        }
        guard let handshake = connection.handshake else {
            startWhenDecided(connection, transport: .plaintext, fingerprint: nil, context, ended: ended)
            return
        }
        handshake.whenComplete { result in
            switch result {
            case .success(let completed):
                counters.increment(.tlsHandshakeCompleted)
                context.metrics.observeHandshake(.nanoseconds((NIODeadline.now() - connection.acceptedAt).nanoseconds))
                startWhenDecided(
                    connection, transport: .tls(version: completed.protocolVersion, cipher: completed.cipher),
                    fingerprint: completed.peerCertificateFingerprint, context, ended: ended,
                    speaksHTTP: completed.applicationProtocol == TLSContext.httpProtocolName)
            case .failure(let error):
                handshakeFailed(error, connection: connection, context)
                connection.outbox.abort(reason: .handshakeFailed)
                connection.outbox.closeFuture.whenComplete { _ in ended() }
            }
        }
    }

    /// Starts the line-protocol session, or (when the client's first bytes are an HTTP request, or its TLS
    /// handshake agreed on `http/1.1`) serves HTTP and starts a JSON session if it upgrades to a WebSocket.
    /// Either way `ended` runs once, after the close.
    private static func startWhenDecided(
        _ connection: AcceptedConnection, transport: Transport, fingerprint: String?, _ context: ServerContext,
        ended: @escaping @Sendable () -> Void, speaksHTTP: Bool = false
    ) {
        let start: @Sendable (WireFormat) -> Void = { format in
            connection.outbox.speak(format)
            let session = makeSession(connection, transport: transport, fingerprint: fingerprint, context)
            connection.driver.start(session, onEnd: ended)
        }
        guard let sniffer = connection.sniffer else { return start(.line) }
        let web = context.configuration.web
        // A browser said so in its TLS handshake (ALPN): no wait. Anyone else is told by their first bytes.
        let decision = speaksHTTP ? sniffer.decide(as: .web) : sniffer.decide(within: web.detectionWindow)
        decision.whenComplete { result in
            // A connection that closed before it said anything ends as a line-protocol one, unannounced.
            guard case .success(.web) = result else { return start(.line) }
            let upgraded = NIOLoopBoundBox(false, eventLoop: connection.channel.eventLoop)
            connection.channel.closeFuture.whenComplete { _ in
                if !upgraded.value { ended() }
            }
            let handler = WebRequestHandler(
                settings: web, secure: connection.kind == .tls,
                maximumLineBytes: context.configuration.maximumLineBytes, outbox: connection.outbox
            ) {
                upgraded.value = true
                start(.json)
            }
            do {
                try WebRequestHandler.install(handler, in: connection.channel, after: sniffer)
            } catch {
                connection.outbox.abort(reason: .connectionClosed)
            }
        }
    }

    private static func makeSession(
        _ connection: AcceptedConnection, transport: Transport, fingerprint: String?, _ context: ServerContext
    ) -> Session {
        let info = ClientInfo(
            id: connection.id, address: connection.address, transport: transport, connectedAt: .now(),
            certificateFingerprint: fingerprint
        )
        return Session(info: info, outbox: connection.outbox, context: context, log: connection.log)
    }

    private static func handshakeFailed(_ error: any Error, connection: AcceptedConnection, _ context: ServerContext) {
        connection.timers.stop()
        if let tlsError = error as? TLSError {
            context.counters.recordHandshakeFailure(reason: tlsError.shortReason)
        } else {
            context.counters.recordHandshakeFailure(reason: "connection closed")
        }
        // A peer that connects and leaves without a word (port scanners, health checks) is not news.
        if let tlsError = error as? TLSError, tlsError.code == .eofDuringHandshake {
            connection.log.log(.debug, "TLS peer left during the handshake")
            return
        }
        if error is ChannelError {
            connection.log.log(.debug, "TLS connection closed before the handshake completed")
            return
        }
        context.refusalLog.log(
            "TLS handshake failed", metadata: ["reason": "\(error)"], level: .info, to: connection.log.logger
        )
    }
}
