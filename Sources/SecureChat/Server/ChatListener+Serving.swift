import NIOCore

extension ChatListener {
    /// Registers the connection and starts its session once its transport is established (at once on the
    /// plaintext port, after the handshake on the TLS port). The session runs in the connection's
    /// `SessionDriver`; `ended` undoes the registration once the session has ended and the channel is closed.
    static func serve(_ connection: AcceptedConnection, _ context: ServerContext) {
        let kind = connection.kind
        let counters = context.counters
        counters.adjustOpenConnections(on: kind, by: 1)
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
            counters.adjustOpenConnections(on: kind, by: -1)
            ticket.release()
            for waiter in waiters { waiter.resume() }
        }
        if !context.isAccepting {
            connection.outbox.close(reason: .serverShutdown)
        }
        connection.established.whenComplete { result in
            switch result {
            case .success(let established):
                startWhenDecided(connection, established, context, ended: ended)
            case .failure:
                // The transport counted and logged the failure; all that is left is to close.
                connection.timers.stop()
                connection.outbox.abort(reason: .handshakeFailed)
                connection.outbox.closeFuture.whenComplete { _ in ended() }
            }
        }
    }

    /// Starts the line-protocol session, or (when the client's first bytes are an HTTP request, or its TLS
    /// handshake agreed on `http/1.1`) serves HTTP and starts a JSON session if it upgrades to a WebSocket.
    /// Either way `ended` runs once, after the close.
    private static func startWhenDecided(
        _ connection: AcceptedConnection, _ established: EstablishedTransport, _ context: ServerContext,
        ended: @escaping @Sendable () -> Void
    ) {
        let start: @Sendable (WireFormat) -> Void = { format in
            connection.outbox.speak(format)
            // Nothing between a line session's outbox and its transport changes its bytes (a WebSocket session has
            // its framing there): it writes to the transport's handler directly.
            if format == .line, let writer = connection.directWriter {
                connection.outbox.write(directlyTo: writer.value)
            }
            let session = makeSession(connection, established, context)
            connection.driver.start(session, onEnd: ended)
        }
        guard let sniffer = connection.sniffer else { return start(.line) }
        let web = context.configuration.web
        // A browser said so in its TLS handshake (ALPN): no wait. Anyone else is told by their first bytes.
        let decision =
            established.speaksHTTP ? sniffer.decide(as: .web) : sniffer.decide(within: web.detectionWindow)
        decision.whenComplete { result in
            // A connection that closed before it said anything ends as a line-protocol one, unannounced.
            guard case .success(.web) = result else { return start(.line) }
            let upgraded = NIOLoopBoundBox(false, eventLoop: connection.channel.eventLoop)
            connection.channel.closeFuture.whenComplete { _ in
                if !upgraded.value { ended() }
            }
            let handler = WebRequestHandler(
                settings: web, secure: established.transport.isEncrypted,
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
        _ connection: AcceptedConnection, _ established: EstablishedTransport, _ context: ServerContext
    ) -> Session {
        let info = ClientInfo(
            id: connection.id, address: connection.address, transport: established.transport, connectedAt: .now(),
            certificateFingerprint: established.peerCertificateFingerprint
        )
        return Session(info: info, outbox: connection.outbox, context: context, log: connection.log)
    }
}
