import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The composition root: binds the listeners (plaintext and TLS), admits connections and runs one `Session`
/// per connection, all in front of one `Hub`.
///
/// `bind` opens the listening sockets (port 0 works; `plaintextPort` / `tlsPort` tell the ports chosen), then
/// `run()` serves until `shutdown()` (or, under a `ServiceGroup`, SIGTERM/SIGINT) or cancellation.
public final class ChatServer: Service, Sendable {
    /// The bound plaintext port (the real one when the configuration asked for 0).
    public let plaintextPort: Int
    /// The bound TLS port, if the TLS listener is on.
    public let tlsPort: Int?
    /// The bound port of the metrics endpoint, if it is on.
    public var metricsPort: Int? { metricsServer?.port }

    public var configuration: Configuration { context.configuration }
    public var hub: Hub { context.hub }
    public var counters: ServerCounters { context.counters }
    public var metrics: ServerMetrics { context.metrics }
    public var connectionLimiter: ConnectionLimiter { context.limiter }
    /// The TLS certificate in use; `reloadCertificates()` swaps it for new connections.
    public var tlsContexts: TLSContextStore? { context.tlsContexts }

    let context: ServerContext
    let listeners: [NIOAsyncChannel<Admission, Never>]
    let metricsServer: MetricsHTTPServer?
    var logger: Logger { context.logger }

    private init(
        context: ServerContext,
        listeners: [NIOAsyncChannel<Admission, Never>],
        metricsServer: MetricsHTTPServer?,
        plaintextPort: Int,
        tlsPort: Int?
    ) {
        self.context = context
        self.listeners = listeners
        self.metricsServer = metricsServer
        self.plaintextPort = plaintextPort
        self.tlsPort = tlsPort
    }

    /// Loads bans and certificates, then opens the listening sockets. Throws with a clear reason when a file is
    /// missing or bad, or a port is taken.
    public static func bind(
        configuration: Configuration,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ChatServer {
        try configuration.validate()
        // In a cluster the bans live in the database; the ban file is only imported (once).
        let bans =
            try configuration.banFilePath.flatMap {
                configuration.cluster == nil ? try BanStore.load(path: $0, logger: logger) : nil
            } ?? BanStore(logger: logger)
        var tlsContexts: TLSContextStore?
        if configuration.tlsPort != nil {
            guard let certificate = configuration.certificatePath, let key = configuration.privateKeyPath else {
                throw ConfigurationError("the TLS listener needs a certificate and a key (--cert and --key)")
            }
            tlsContexts = try TLSContextStore(
                certificateChainPath: certificate, privateKeyPath: key, clientCAPath: configuration.clientCAPath
            )
        }
        let maximumConnections =
            configuration.maximumConnections
            ?? FileDescriptorLimit.defaultMaxConnections(openFileLimit: FileDescriptorLimit.current().soft)
        let counters = ServerCounters()
        let metrics = ServerMetrics(counters: counters)
        let cluster = try configuration.cluster.map { cluster in
            try ClusterLink(
                configuration: cluster, historyLines: configuration.historyLines, bans: bans,
                registry: metrics.registry, logger: logger, group: group)
        }
        let hub = Hub(configuration: configuration.hubConfiguration, bans: bans, cluster: cluster, logger: logger)
        // Before any listener opens: the node is in the cluster, with its rooms and bans, when users arrive.
        try await cluster?.start(hub: hub, importingBanFile: configuration.banFilePath)
        let context = ServerContext(
            configuration: configuration,
            hub: hub,
            cluster: cluster,
            bans: bans,
            counters: counters,
            metrics: metrics,
            limiter: ConnectionLimiter(
                maxConnections: maximumConnections, maxPerAddress: configuration.maximumConnectionsPerAddress,
                maxPerIPv6Network: configuration.maximumConnectionsPerIPv6Network
            ),
            tlsContexts: tlsContexts,
            logger: logger,
            group: group
        )

        let plaintext: NIOAsyncChannel<Admission, Never>
        do {
            plaintext = try await listen(on: configuration.plaintextPort, kind: .plaintext, context)
        } catch {
            await cluster?.retire()
            throw error
        }
        var listeners = [plaintext]
        var tlsPort: Int?
        if let port = configuration.tlsPort {
            do {
                let tls = try await listen(on: port, kind: .tls, context)
                listeners.append(tls)
                tlsPort = tls.channel.localAddress?.port
                if let tlsPort { context.tlsListenerBound(port: tlsPort) }
            } catch {
                try? await plaintext.channel.close()
                await cluster?.retire()
                throw error
            }
        }
        var metricsServer: MetricsHTTPServer?
        if let port = configuration.metricsPort {
            do {
                metricsServer = try await MetricsHTTPServer.bind(
                    host: configuration.metricsHost, port: port, group: group,
                    respond: { path in await Self.monitoringResponse(path: path, context) }
                )
                logger.info(
                    "metrics endpoint",
                    metadata: ["address": "\(configuration.metricsHost):\(metricsServer?.port ?? port)"])
            } catch {
                for listener in listeners { try? await listener.channel.close() }
                await cluster?.retire()
                throw error
            }
        }
        return ChatServer(
            context: context,
            listeners: listeners,
            metricsServer: metricsServer,
            plaintextPort: plaintext.channel.localAddress?.port ?? configuration.plaintextPort,
            tlsPort: tlsPort
        )
    }

    /// Serves until shutdown. Under a `ServiceGroup`, SIGTERM/SIGINT start a graceful shutdown; cancelling the
    /// task stops at once. A connection's failure never ends the server.
    public func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await serveInCluster()
            } onGracefulShutdown: {
                self.shutdown()
            }
        } catch {
            // Bans are saved on every way out, a serve error too.
            await metricsServer?.close()
            await hub.saveBans()
            throw error
        }
        await metricsServer?.close()
        await hub.saveBans()
    }

    /// `serveConnections`, with the cluster link running beside it when there is one. When serving ends the
    /// node leaves the cluster (its users are announced as gone at once), even when cancelled.
    private func serveInCluster() async throws {
        guard let cluster = context.cluster else { return try await serveConnections() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await cluster.run() }
            defer { group.cancelAll() }
            do {
                try await serveConnections()
            } catch {
                await Task { await cluster.retire() }.value
                throw error
            }
            await Task { await cluster.retire() }.value
        }
    }

    /// Accepts until the listeners close, then waits until every connection has ended. Cancelled (or when a
    /// listener fails), it closes every connection and still waits for their sessions to end.
    private func serveConnections() async throws {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                for listener in listeners {
                    group.addTask {
                        try await listener.executeThenClose { inbound in
                            for try await admission in inbound {
                                guard case .accepted(let connection) = admission else { continue }
                                self.serve(connection)
                            }
                        }
                    }
                }
            }
        } catch {
            closeAllConnections()
            await connectionsEnded()
            throw error
        }
        await withTaskCancellationHandler {
            await connectionsEnded()
        } onCancel: {
            self.closeAllConnections()
        }
    }

    private func closeAllConnections() {
        for outbox in context.connections.withLockedValue({ Array($0.outboxes.values) }) {
            outbox.abort(reason: .serverShutdown)
        }
    }

    /// Returns once no connection is registered.
    private func connectionsEnded() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = context.connections.withLockedValue { registry -> Bool in
                if registry.outboxes.isEmpty { return true }
                registry.emptyWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Loads the certificate and key again for new connections (SIGHUP). A bad file keeps the old pair and
    /// throws the reason.
    public func reloadCertificates() throws {
        guard let tlsContexts, let certificate = configuration.certificatePath,
            let key = configuration.privateKeyPath
        else { return }
        try tlsContexts.reload(
            certificateChainPath: certificate, privateKeyPath: key, clientCAPath: configuration.clientCAPath
        )
        logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(certificate)"])
    }

    private static func listen(
        on port: Int,
        kind: ListenerKind,
        _ context: ServerContext
    ) async throws -> NIOAsyncChannel<Admission, Never> {
        let listener = try await ServerBootstrap(group: context.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // No receive buffer kept per idle connection (see IdleFriendlyRecvAllocator).
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: IdleFriendlyRecvAllocator())
            .bind(host: context.configuration.host, port: port) { channel in
                admit(channel, kind: kind, context)
            }
        context.logger.info(
            "listening",
            metadata: [
                "transport": "\(kind)",
                "address": "\(listener.channel.localAddress.map { "\($0)" } ?? "?")",
            ]
        )
        return listener
    }

    /// Registers the connection and starts its session: at once on the plaintext port, after the handshake on
    /// the TLS port. The session runs in the connection's `SessionDriver`; `ended` undoes the registration once
    /// the session has ended and the channel is closed.
    private func serve(_ connection: AcceptedConnection) {
        let tls = connection.kind == .tls
        counters.adjustOpenConnections(tls: tls, by: 1)
        context.connections.withLockedValue { $0.outboxes[connection.id] = connection.outbox }
        // Kept by the connection for its whole life: captures only what it needs (not all of the context).
        let registry = context.connections
        let counters = self.counters
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
            connection.driver.start(makeSession(connection, transport: .plaintext, fingerprint: nil), onEnd: ended)
            return
        }
        handshake.whenComplete { result in
            switch result {
            case .success(let completed):
                self.counters.increment(.tlsHandshakeCompleted)
                self.metrics.observeHandshake(.nanoseconds((NIODeadline.now() - connection.acceptedAt).nanoseconds))
                let session = self.makeSession(
                    connection,
                    transport: .tls(version: completed.protocolVersion, cipher: completed.cipher),
                    fingerprint: completed.peerCertificateFingerprint
                )
                connection.driver.start(session, onEnd: ended)
            case .failure(let error):
                self.handshakeFailed(error, connection: connection)
                connection.outbox.abort(reason: .handshakeFailed)
                connection.outbox.closeFuture.whenComplete { _ in ended() }
            }
        }
    }

    private func makeSession(_ connection: AcceptedConnection, transport: Transport, fingerprint: String?) -> Session {
        let info = ClientInfo(
            id: connection.id, address: connection.address, transport: transport, connectedAt: .now(),
            certificateFingerprint: fingerprint
        )
        return Session(info: info, outbox: connection.outbox, context: context, log: connection.log)
    }

    private func handshakeFailed(_ error: any Error, connection: AcceptedConnection) {
        connection.timers.stop()
        if let tlsError = error as? TLSError {
            counters.recordHandshakeFailure(reason: tlsError.shortReason)
        } else {
            counters.recordHandshakeFailure(reason: "connection closed")
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
