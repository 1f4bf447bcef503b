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
    public let configuration: Configuration
    public let hub: Hub
    public let counters: ServerCounters
    public let metrics: ServerMetrics
    public let connectionLimiter: ConnectionLimiter
    /// The bound plaintext port (the real one when the configuration asked for 0).
    public let plaintextPort: Int
    /// The bound TLS port, if the TLS listener is on.
    public let tlsPort: Int?
    /// The TLS certificate in use; `reloadCertificates()` swaps it for new connections.
    public let tlsContexts: TLSContextStore?
    /// The bound port of the metrics endpoint, if it is on.
    public var metricsPort: Int? { metricsServer?.port }

    let listeners: [NIOAsyncChannel<Admission, Never>]
    let metricsServer: MetricsHTTPServer?
    let shared: Shared
    var logger: Logger { shared.logger }
    var refusalLog: LogRateLimiter { shared.refusalLog }

    private init(
        shared: Shared,
        listeners: [NIOAsyncChannel<Admission, Never>],
        metricsServer: MetricsHTTPServer?,
        plaintextPort: Int,
        tlsPort: Int?
    ) {
        self.configuration = shared.configuration
        self.shared = shared
        self.hub = shared.hub
        self.counters = shared.counters
        self.metrics = shared.metrics
        self.connectionLimiter = shared.limiter
        self.tlsContexts = shared.tlsContexts
        self.listeners = listeners
        self.metricsServer = metricsServer
        self.plaintextPort = plaintextPort
        self.tlsPort = tlsPort
    }

    /// What every connection's set-up needs, built once.
    struct Shared: Sendable {
        let configuration: Configuration
        let hub: Hub
        let counters: ServerCounters
        let metrics: ServerMetrics
        let limiter: ConnectionLimiter
        let acceptThrottle: AcceptThrottle
        let tlsContexts: TLSContextStore?
        let refusalLog: LogRateLimiter
        let logger: Logger
        let group: any EventLoopGroup
        let connectionIDs: NIOLockedValueBox<UInt64>
        /// Every open connection's outbox, for the shutdown notice and drain.
        let connections: NIOLockedValueBox<[ConnectionID: Outbox]>
        /// False once shutdown has begun: `/healthz` fails and late arrivals are sent away.
        let accepting: NIOLockedValueBox<Bool>
    }

    /// Loads bans and certificates, then opens the listening sockets. Throws with a clear reason when a file is
    /// missing or bad, or a port is taken.
    public static func bind(
        configuration: Configuration,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ChatServer {
        let bans = try configuration.banFilePath.map(BanFile.load(path:)) ?? BanList()
        var tlsContexts: TLSContextStore?
        if configuration.tlsPort != nil {
            guard let certificate = configuration.certificatePath, let key = configuration.privateKeyPath else {
                throw ConfigurationError("the TLS listener needs a certificate and a key (--cert and --key)")
            }
            tlsContexts = try TLSContextStore(
                certificateChainPath: certificate, privateKeyPath: key, clientCAPath: configuration.clientCAPath
            )
        }
        let maximumConnections = configuration.maximumConnections
            ?? FileDescriptorLimit.defaultMaxConnections(openFileLimit: FileDescriptorLimit.current().soft)
        let counters = ServerCounters()
        let shared = Shared(
            configuration: configuration,
            hub: Hub(
                configuration: configuration.hubConfiguration,
                bans: bans,
                banFile: configuration.banFilePath.map(BanFile.init(path:)),
                logger: logger
            ),
            counters: counters,
            metrics: ServerMetrics(counters: counters),
            limiter: ConnectionLimiter(
                maxConnections: maximumConnections, maxPerAddress: configuration.maximumConnectionsPerAddress
            ),
            acceptThrottle: AcceptThrottle(
                ratePerSecond: configuration.connectRatePerAddress, burst: configuration.connectBurst
            ),
            tlsContexts: tlsContexts,
            refusalLog: LogRateLimiter(maxPerInterval: 10, interval: .seconds(1)),
            logger: logger,
            group: group,
            connectionIDs: NIOLockedValueBox(0),
            connections: NIOLockedValueBox([:]),
            accepting: NIOLockedValueBox(true)
        )

        let plaintext = try await listen(on: configuration.plaintextPort, kind: .plaintext, shared, group)
        var listeners = [plaintext]
        var tlsPort: Int?
        if let port = configuration.tlsPort {
            do {
                let tls = try await listen(on: port, kind: .tls, shared, group)
                listeners.append(tls)
                tlsPort = tls.channel.localAddress?.port
            } catch {
                try? await plaintext.channel.close()
                throw error
            }
        }
        var metricsServer: MetricsHTTPServer?
        if let port = configuration.metricsPort {
            do {
                metricsServer = try await MetricsHTTPServer.bind(
                    host: configuration.metricsHost, port: port, group: group,
                    respond: { path in await Self.monitoringResponse(path: path, shared) }
                )
                logger.info("metrics endpoint", metadata: ["address": "\(configuration.metricsHost):\(metricsServer?.port ?? port)"])
            } catch {
                for listener in listeners { try? await listener.channel.close() }
                throw error
            }
        }
        return ChatServer(
            shared: shared,
            listeners: listeners,
            metricsServer: metricsServer,
            plaintextPort: plaintext.channel.localAddress?.port ?? configuration.plaintextPort,
            tlsPort: tlsPort
        )
    }

    /// Serves until shutdown. Under a `ServiceGroup`, SIGTERM/SIGINT start a graceful shutdown; cancelling the
    /// task stops at once. A connection's failure never ends the server.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await serveConnections()
        } onGracefulShutdown: {
            self.shutdown()
        }
        await metricsServer?.close()
        await hub.saveBans()
    }

    private func serveConnections() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for listener in listeners {
                group.addTask {
                    try await listener.executeThenClose { inbound in
                        try await withThrowingDiscardingTaskGroup { connections in
                            for try await admission in inbound {
                                guard case .accepted(let connection) = admission else { continue }
                                connections.addTask { await self.serve(connection) }
                            }
                        }
                    }
                }
            }
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
        _ shared: Shared,
        _ group: any EventLoopGroup
    ) async throws -> NIOAsyncChannel<Admission, Never> {
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // No receive buffer kept per idle connection (see IdleFriendlyRecvAllocator).
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: IdleFriendlyRecvAllocator())
            .bind(host: shared.configuration.host, port: port) { channel in
                admit(channel, kind: kind, shared)
            }
        shared.logger.info(
            "listening",
            metadata: [
                "transport": "\(kind)",
                "address": "\(listener.channel.localAddress.map { "\($0)" } ?? "?")",
            ]
        )
        return listener
    }

    private func serve(_ connection: AcceptedConnection) async {
        counters.adjustOpenConnections(tls: connection.kind == .tls, by: 1)
        shared.connections.withLockedValue { $0[connection.id] = connection.outbox }
        defer {
            shared.connections.withLockedValue { $0[connection.id] = nil }
            counters.adjustOpenConnections(tls: connection.kind == .tls, by: -1)
            connection.ticket.release()
        }
        if !shared.accepting.withLockedValue({ $0 }) {
            connection.outbox.close(reason: "server shutting down")
        }
        do {
            try await connection.channel.executeThenClose { inbound, _ in
                var transport = Transport.plaintext
                var fingerprint: String?
                if let handshake = connection.handshake {
                    do {
                        let completed = try await handshake.get()
                        counters.increment(.tlsHandshakeCompleted)
                        metrics.observeHandshake(.nanoseconds((NIODeadline.now() - connection.acceptedAt).nanoseconds))
                        transport = .tls(version: completed.protocolVersion, cipher: completed.cipher)
                        fingerprint = completed.peerCertificateFingerprint
                    } catch {
                        handshakeFailed(error, connection: connection)
                        return
                    }
                }
                let info = ClientInfo(
                    id: connection.id, address: connection.address, transport: transport, connectedAt: .now(),
                    certificateFingerprint: fingerprint
                )
                let session = Session(
                    info: info,
                    hub: hub,
                    outbox: connection.outbox,
                    configuration: configuration,
                    tlsPort: tlsPort,
                    counters: counters,
                    logger: connection.logger,
                    loginTimer: connection.loginTimer
                )
                await session.run(inbound)
            }
        } catch {
            connection.logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private func handshakeFailed(_ error: any Error, connection: AcceptedConnection) {
        connection.loginTimer.cancel()
        if let tlsError = error as? TLSError {
            counters.recordHandshakeFailure(reason: tlsError.shortReason)
        } else {
            counters.recordHandshakeFailure(reason: "connection closed")
        }
        // A peer that connects and leaves without a word (port scanners, health checks) is not news.
        if let tlsError = error as? TLSError, tlsError.code == .eofDuringHandshake {
            connection.logger.debug("TLS peer left during the handshake")
            return
        }
        if error is ChannelError {
            connection.logger.debug("TLS connection closed before the handshake completed")
            return
        }
        refusalLog.log(
            "TLS handshake failed", metadata: ["reason": "\(error)"], level: .info, to: connection.logger
        )
    }
}

/// A configuration that cannot work, said in words for the operator.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
