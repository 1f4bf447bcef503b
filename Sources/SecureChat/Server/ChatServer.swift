import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The composition root: binds the listeners, accepts connections and runs one `Session` per connection, all
/// in front of one `Hub`.
///
/// Use `bind` to open the listening sockets (port 0 works and `plaintextPort` tells the port chosen), then
/// `run()` to serve until the surrounding task is cancelled.
public final class ChatServer: Sendable {
    public let configuration: Configuration
    public let hub: Hub
    /// The bound plaintext port (the real one when the configuration asked for 0).
    public let plaintextPort: Int

    private let plaintextListener: NIOAsyncChannel<AcceptedConnection, Never>
    private let logger: Logger

    /// A connection the listener accepted, its pipeline set up.
    struct AcceptedConnection: Sendable {
        let id: ConnectionID
        let channel: NIOAsyncChannel<InboundLine, Never>
        let outbox: Outbox
        let address: String
        let loginTimer: Scheduled<Void>
        let logger: Logger
    }

    private init(
        configuration: Configuration,
        hub: Hub,
        plaintextListener: NIOAsyncChannel<AcceptedConnection, Never>,
        logger: Logger
    ) {
        self.configuration = configuration
        self.hub = hub
        self.plaintextListener = plaintextListener
        self.plaintextPort = plaintextListener.channel.localAddress?.port ?? configuration.plaintextPort
        self.logger = logger
    }

    /// Opens the listening sockets.
    public static func bind(
        configuration: Configuration,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ChatServer {
        let bans = try configuration.banFilePath.map(BanFile.load(path:)) ?? BanList()
        let hub = Hub(
            configuration: configuration.hubConfiguration,
            bans: bans,
            banFile: configuration.banFilePath.map(BanFile.init(path:)),
            logger: logger
        )
        let ids = NIOLockedValueBox<UInt64>(0)
        let plaintext = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.plaintextPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = ConnectionID(ids.withLockedValue { $0 += 1; return $0 })
                    return try Self.setUpPipeline(channel, id: id, configuration: configuration, logger: logger)
                }
            }
        logger.info(
            "listening",
            metadata: ["transport": "plaintext", "address": "\(plaintext.channel.localAddress.map { "\($0)" } ?? "?")"]
        )
        return ChatServer(configuration: configuration, hub: hub, plaintextListener: plaintext, logger: logger)
    }

    /// Serves until the calling task is cancelled. A connection's failure never ends the server.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await plaintextListener.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection, transport: .plaintext) }
                }
            }
        }
    }

    private static func setUpPipeline(
        _ channel: any Channel,
        id: ConnectionID,
        configuration: Configuration,
        logger: Logger
    ) throws -> AcceptedConnection {
        var logger = logger
        logger[metadataKey: "connection"] = "\(id)"
        let address = channel.remoteAddress?.displayAddress ?? "unknown"
        logger[metadataKey: "peer"] = "\(address)"
        let outbox = Outbox(
            eventLoop: channel.eventLoop,
            limit: configuration.outboxBytes,
            writeTimeout: configuration.writeTimeout,
            logger: logger
        )
        let decoder = LineDecoder(maximumLength: configuration.maximumLineBytes, detectTLSClientHello: true)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        try channel.pipeline.syncOperations.addHandler(outbox)
        let asyncChannel = try NIOAsyncChannel<InboundLine, Never>(wrappingChannelSynchronously: channel)
        let connectionLogger = logger
        let loginTimer = channel.eventLoop.scheduleTask(in: configuration.loginTimeout) {
            connectionLogger.info("login timeout; closing")
            channel.close(promise: nil)
        }
        logger.info("connection accepted")
        return AcceptedConnection(
            id: id, channel: asyncChannel, outbox: outbox, address: address, loginTimer: loginTimer,
            logger: connectionLogger
        )
    }

    private func serve(_ connection: AcceptedConnection, transport: Transport) async {
        let info = ClientInfo(
            id: connection.id, address: connection.address, transport: transport, connectedAt: .now()
        )
        let session = Session(
            info: info,
            hub: hub,
            outbox: connection.outbox,
            settings: SessionSettings(maximumLineBytes: configuration.maximumLineBytes, tlsPort: nil),
            logger: connection.logger,
            loginTimer: connection.loginTimer
        )
        do {
            try await connection.channel.executeThenClose { inbound, _ in
                await session.run(inbound)
            }
        } catch {
            connection.logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }
}
