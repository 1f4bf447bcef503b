import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The composition root: binds the listeners (a `ChatListener` over plaintext and one over TLS), which admit
/// connections and run one `Session` per connection, all in front of one `Hub`.
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
    let listeners: [ChatListener]
    let metricsServer: MetricsHTTPServer?
    var logger: Logger { context.logger }

    private init(
        context: ServerContext,
        listeners: [ChatListener],
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
        // Accounts are on when they have somewhere to live: the account file, or the cluster's database (whose
        // copy on this node starts empty and is filled as the node joins).
        let accountStore =
            configuration.cluster != nil
            ? AccountStore(logger: logger)
            : try configuration.accountFilePath.map { try AccountStore.load(path: $0, logger: logger) }
        var tlsContexts: TLSContextStore?
        if configuration.tlsPort != nil {
            guard let certificate = configuration.certificatePath, let key = configuration.privateKeyPath else {
                throw ConfigurationError("the TLS listener needs a certificate and a key (--cert and --key)")
            }
            tlsContexts = try TLSContextStore(
                certificateChainPath: certificate, privateKeyPath: key, clientCAPath: configuration.clientCAPath,
                anyClientCertificate: configuration.anyClientCertificate,
                handshakeBudget: TLSHandshakeBudget(
                    ratePerSecond: configuration.fullHandshakeRate, burst: configuration.fullHandshakeBurst
                )
            )
        }
        let maximumConnections =
            configuration.maximumConnections
            ?? FileDescriptorLimit.defaultMaxConnections(openFileLimit: FileDescriptorLimit.current().soft)
        let counters = ServerCounters()
        let metrics = ServerMetrics(counters: counters)
        let cluster = try configuration.cluster.map { cluster in
            try cluster.warnIfPasswordExposed(logger: logger)
            return try ClusterLink(
                configuration: cluster, historyLines: configuration.historyLines, bans: bans,
                accounts: accountStore ?? AccountStore(logger: logger), registry: metrics.registry, logger: logger,
                group: group)
        }
        let accounts = accountStore.map {
            AccountService(store: $0, database: cluster, limits: configuration.accountLimits)
        }
        let hub = Hub(configuration: configuration.hubConfiguration, bans: bans, cluster: cluster, logger: logger)
        // Before any listener opens: the node is in the cluster, with its rooms and bans, when users arrive.
        try await cluster?.start(hub: hub, importingBanFile: configuration.banFilePath)
        let context = ServerContext(
            configuration: configuration,
            hub: hub,
            cluster: cluster,
            bans: bans,
            accounts: accounts,
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

        let plaintext: ChatListener
        do {
            plaintext = try await ChatListener.bind(
                port: configuration.plaintextPort, name: "plaintext", portFlag: "--port",
                transport: PlaintextTransport(), context)
        } catch {
            await cluster?.retire()
            throw error
        }
        var listeners = [plaintext]
        var tlsPort: Int?
        if let port = configuration.tlsPort, let tlsContexts {
            do {
                let tls = try await ChatListener.bind(
                    port: port, name: "TLS", portFlag: "--tls-port", transport: tlsTransport(tlsContexts, context),
                    context)
                listeners.append(tls)
                tlsPort = tls.port
                if let tlsPort { context.tlsListenerBound(port: tlsPort) }
            } catch {
                await plaintext.socket.closeAndWait()
                await cluster?.retire()
                throw error
            }
        }
        var metricsServer: MetricsHTTPServer?
        if let port = configuration.metricsPort {
            do {
                metricsServer = try await MetricsHTTPServer.bind(
                    host: configuration.metricsHost, port: port, group: group,
                    maximumConnections: configuration.metricsMaximumConnections,
                    idleTimeout: configuration.metricsIdleTimeout,
                    respond: { path in await Self.monitoringResponse(path: path, context) }
                )
                logger.info(
                    "metrics endpoint",
                    metadata: ["address": "\(configuration.metricsHost):\(metricsServer?.port ?? port)"])
            } catch {
                for listener in listeners { await listener.socket.closeAndWait() }
                await cluster?.retire()
                throw ListenerBindError(
                    listener: "metrics", host: configuration.metricsHost, port: port, flag: "--metrics-port",
                    hostFlag: "--metrics-host", underlying: error
                )
            }
        }
        return ChatServer(
            context: context,
            listeners: listeners,
            metricsServer: metricsServer,
            plaintextPort: plaintext.port ?? configuration.plaintextPort,
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
            await context.accounts?.store.save()
            await context.accounts?.shutdown()
            throw error
        }
        await metricsServer?.close()
        await hub.saveBans()
        await context.accounts?.store.save()
        await context.accounts?.shutdown()
    }

    /// `serveConnections`, with the cluster link running beside it when there is one. When serving ends the
    /// node leaves the cluster (its users are announced as gone at once), even when cancelled.
    private func serveInCluster() async throws {
        guard let cluster = context.cluster else { return try await serveConnections() }
        // Not a child of this task: cancelling the server must not stop the link before every session has
        // ended, since a session that ends first waits for its last lines' commits, which only the link makes.
        let link = Task { await cluster.run() }
        let served: Result<Void, any Error>
        do {
            try await serveConnections()
            served = .success(())
        } catch {
            served = .failure(error)
        }
        link.cancel()
        if await !Self.finishes(link, within: .seconds(10)) {
            logger.warning("the cluster link did not stop within 10 s; leaving the cluster anyway")
        }
        // In a task of its own, so that a cancelled server still leaves the cluster in full.
        if await !Self.finishes(Task { await cluster.retire() }, within: .seconds(20)) {
            logger.warning("leaving the cluster took more than 20 s; stopping anyway (the others sweep this node)")
        }
        try served.get()
    }

    /// Whether `task` ends within `limit`. Stopping is bounded whatever a dependency does: a node that cannot
    /// leave the cluster in time stops anyway, and the other nodes declare it down after the node timeout. The
    /// wait holds even in a cancelled task (a server stopped by cancellation), unlike an async sequence's.
    private static func finishes(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
        let first = FirstOutcome()
        let waiter = Task {
            await task.value
            first.settle(true)
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            first.settle(false)
        }
        let finished = await first.value()
        timer.cancel()
        waiter.cancel()
        return finished
    }

    /// Accepts until the listeners close, then waits until every connection has ended. Cancelled, it closes the
    /// listeners and every connection, still waits for their sessions to end, and throws `CancellationError`.
    ///
    /// Each accepted connection is served on its event loop as the listener accepts it (`ChatListener`): no
    /// task and no thread hop per connection.
    private func serveConnections() async throws {
        let listeners = self.listeners.map(\.socket)
        await withTaskCancellationHandler {
            for listener in listeners { await listener.waitUntilClosed() }
        } onCancel: {
            for listener in listeners { listener.close() }
        }
        await withTaskCancellationHandler {
            await connectionsEnded()
        } onCancel: {
            self.closeAllConnections()
        }
        try Task.checkCancellation()
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
            certificateChainPath: certificate, privateKeyPath: key, clientCAPath: configuration.clientCAPath,
            anyClientCertificate: configuration.anyClientCertificate
        )
        logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(certificate)"])
    }

    /// The TLS port's transport. An operator certificate may let a banned address through to the handshake
    /// only while operator fingerprints are configured and clients are asked for certificates; a reload may
    /// change either, so it is read from the live configuration at every accept.
    private static func tlsTransport(_ contexts: TLSContextStore, _ context: ServerContext) -> TLSTransport {
        TLSTransport(
            contexts: contexts, shutdownTimeout: context.configuration.tlsShutdownTimeout, counters: context.counters,
            metrics: context.metrics, refusalLog: context.refusalLog,
            operatorsMayHoldCertificates: {
                let configuration = context.configuration
                return !configuration.operatorFingerprints.isEmpty
                    && (configuration.clientCAPath != nil || configuration.anyClientCertificate)
            }
        )
    }
}
