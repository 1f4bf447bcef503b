import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import Prometheus

/// This node's link to the cluster: the one place that talks to PostgreSQL (DESIGN.md, "Scaling out").
///
/// - **Out:** room lines are batched and committed by the publisher (``ClusterLink+Publisher``); presence,
///   bans and relayed DMs and kicks go through one ordered work queue (``ClusterLink+Work``).
/// - **In:** the listener (``ClusterLink+Listener``) turns notifications into hub steps, in commit order, and
///   fills gaps and outages from the tables.
/// - **Liveness:** heartbeats, declaring silent nodes down, and noticing when this one was
///   (``ClusterLink+Liveness``).
///
/// The hub sees it only as a ``ClusterSeam``: synchronous hand-offs, never a wait.
public final class ClusterLink: ClusterSeam, Sendable {
    public let nodeName: String
    let configuration: ClusterConfiguration
    let connectionConfiguration: PostgresConnection.Configuration
    let historyLines: Int
    let bans: BanStore
    let metrics: ClusterMetrics
    let logger: Logger
    let group: any EventLoopGroup
    /// Used by the publisher only: one batch in flight at a time.
    let publisherConnection: DatabaseConnection
    /// Used by the work queue, liveness and start-up.
    let workConnection: DatabaseConnection
    /// Proves a restart on this machine is this node (``IncarnationFile``).
    let incarnationFile: IncarnationFile

    struct State {
        /// Weak: the hub holds this link (its `cluster`), and the server holds the hub. A strong reference here
        /// made a cycle, so a stopped cluster-mode server's hub, link, history and metrics were never freed.
        weak var hub: Hub?
        var linked = true
        var nodesUp = 1
        var incarnation = Int64.random(in: 1...Int64.max)
        /// Between finding this node declared down and registering it again.
        var rejoining = false
        /// Leaving the cluster at a clean stop: nothing registers the node again.
        var retiring = false
        /// When the link last came up. A node declares others down only after a full timeout linked: after
        /// an outage of the database every node's heartbeat is old, and they all need time to beat again.
        var linkedSince = NIODeadline.now()
        /// Room lines waiting for the next batch.
        var outgoing: [OutgoingLine] = []
        /// Presence, bans and relays waiting for the work queue, in order.
        var work: [WorkItem] = []
    }

    let state = NIOLockedValueBox(State())
    let publisherWakeUps: AsyncStream<Void>.Continuation
    let publisherSignals: AsyncStream<Void>
    let workWakeUps: AsyncStream<Void>.Continuation
    let workSignals: AsyncStream<Void>

    /// Most lines one batch commits: the notification of a full batch stays under PostgreSQL's 8000 bytes
    /// even when its lines travel by key.
    static let batchLimit = 64
    /// Most notices (joins, leaves) kept while the link is down; past it the oldest are dropped.
    static let outgoingLimit = 10_000
    static let channel = "securechat"

    public init(
        configuration: ClusterConfiguration,
        historyLines: Int,
        bans: BanStore,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        group: any EventLoopGroup
    ) throws {
        self.nodeName = configuration.nodeName
        self.configuration = configuration
        self.connectionConfiguration = try configuration.connectionConfiguration()
        self.historyLines = historyLines
        self.bans = bans
        self.metrics = ClusterMetrics(registry: registry)
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeName)"
        self.logger = logger
        self.group = group
        self.incarnationFile = IncarnationFile(
            path: configuration.incarnationFile ?? IncarnationFile.defaultPath(nodeName: configuration.nodeName))
        self.publisherConnection = DatabaseConnection(
            configuration: connectionConfiguration, eventLoop: group.next(), id: 2, logger: logger)
        self.workConnection = DatabaseConnection(
            configuration: connectionConfiguration, eventLoop: group.next(), id: 3, logger: logger)
        (publisherSignals, publisherWakeUps) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (workSignals, workWakeUps) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        metrics.linkUp.set(Int64(1))
        metrics.nodesUp.set(Int64(1))
    }

    var hub: Hub? { state.withLockedValue { $0.hub } }
    var incarnation: Int64 { state.withLockedValue { $0.incarnation } }

    public var isLinked: Bool { state.withLockedValue { $0.linked } }
    public var nodesUp: Int { state.withLockedValue { $0.nodesUp } }

    /// Joins the cluster before the node accepts anyone: migrates the schema, registers this node, imports
    /// the ban file once, and loads the bans, the rooms and who is online elsewhere into `hub`. Throws with
    /// the reason when the database cannot be reached or refuses (another live node has this name).
    public func start(hub: Hub, importingBanFile banFile: String?) async throws {
        do {
            try await join(hub: hub, importingBanFile: banFile)
        } catch let error as ClusterError {
            await workConnection.drop()
            incarnationFile.release()
            throw error
        } catch {
            await workConnection.drop()
            incarnationFile.release()
            throw ClusterError.cannotJoin(ClusterError.reason(error))
        }
    }

    private func join(hub: Hub, importingBanFile banFile: String?) async throws {
        state.withLockedValue { $0.hub = hub }
        _ = try await workConnection.run(timeout: .seconds(60)) { [logger] connection in
            try await ClusterSchema.migrate(connection, logger: logger)
        }
        try await register()
        if let banFile { try await importBanFile(banFile) }
        try await workConnection.run(timeout: .seconds(30)) { connection in
            try await self.catchUp(on: connection)
        }
        logger.notice("joined the cluster", metadata: ["incarnation": "\(incarnation)"])
    }

    /// Runs the listener, the publisher, the work queue and the heartbeat until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.listen() }
            group.addTask { await self.publishLoop() }
            group.addTask { await self.workLoop() }
            group.addTask { await self.heartbeatLoop() }
        }
    }

    /// Leaves the cluster at shutdown: this node's members are announced as gone now, not after the timeout.
    public func retire() async {
        state.withLockedValue { $0.retiring = true }
        defer { incarnationFile.release() }
        do {
            let gone = try await workConnection.run { [logger, nodeName, incarnation] connection in
                try await Self.departures(
                    connection.query(
                        "SELECT display_name, room FROM securechat_retire(\(nodeName), \(incarnation))",
                        logger: logger))
            }
            for (name, room) in gone {
                announceDeparture(of: name, from: room, reason: .serverShutdown)
            }
            await drainPublisher(timeout: .seconds(2))
        } catch {
            logger.warning("could not leave the cluster cleanly", metadata: ["error": "\(ClusterError.reason(error))"])
        }
        await publisherConnection.drop()
        await workConnection.drop()
    }

    // MARK: - Link state

    /// The listener lost the database: chat pauses here, and everyone here is told once.
    func linkLost(_ error: any Error) async {
        let (wasLinked, refused) = state.withLockedValue { state -> (Bool, [CommitReceipt]) in
            defer { state.linked = false }
            // Chat lines still waiting for a batch are refused now: their senders should not wait out the outage.
            let refused = state.outgoing.compactMap(\.receipt)
            state.outgoing.removeAll { $0.receipt != nil }
            return (state.linked, refused)
        }
        for receipt in refused { receipt.resolve(.notSent) }
        guard wasLinked else { return }
        metrics.linkUp.set(Int64(0))
        logger.error("lost the cluster database; chat is paused", metadata: ["error": "\(ClusterError.reason(error))"])
        await hub?.linkDown()
    }

    /// Caught up after a reconnect: chat resumes, and notices kept meanwhile are sent.
    func linkRestored() async {
        let (wasLinked, rejoining) = state.withLockedValue { state -> (Bool, Bool) in
            defer {
                if !state.rejoining {
                    if !state.linked { state.linkedSince = .now() }
                    state.linked = true
                }
            }
            return (state.linked, state.rejoining)
        }
        guard !rejoining else { return }
        metrics.linkUp.set(Int64(1))
        await hub?.linkUp()
        if !wasLinked { logger.notice("cluster database is back; chat resumed") }
        publisherWakeUps.yield()
        workWakeUps.yield()
    }

    /// `* bob left #lobby (reason)`, published for a member whose node cannot say it any more.
    func announceDeparture(of name: String, from room: String, reason: CloseReason) {
        guard let room = RoomName(parsing: room) else { return }
        publish(room: room, line: .notice(reason.leaveNotice(name: name, room: room)), except: nil, receipt: nil)
    }

    static func departures(_ rows: PostgresRowSequence) async throws -> [(String, String)] {
        var result: [(String, String)] = []
        for try await (name, room) in rows.decode((String, String).self) { result.append((name, room)) }
        return result
    }
}
