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
    /// This node's copy of the accounts (``ClusterLink+Accounts``).
    let accounts: AccountStore
    let metrics: ClusterMetrics
    let logger: Logger
    let group: any EventLoopGroup
    /// Used by the publisher only: one batch in flight at a time.
    let publisherConnection: DatabaseConnection
    /// Used by the work queue, start-up and pruning.
    let workConnection: DatabaseConnection
    /// Proves a restart on this machine is this node (``IncarnationFile``).
    let incarnationFile: IncarnationFile
    /// Used by the heartbeat only, so that a beat never waits behind a long query and its deadline measures
    /// the database, not the queue.
    let heartbeatConnection: DatabaseConnection
    /// Used by pruning only: its batches never hold up the work queue.
    let pruneConnection: DatabaseConnection

    struct State {
        /// Weak: the hub holds this link (its `cluster`), and the server holds the hub. A strong reference here
        /// made a cycle, so a stopped cluster-mode server's hub, link, history and metrics were never freed.
        weak var hub: Hub?
        /// Connecting, live, paused, out, rejoining or stopping (``ClusterLinkState``).
        var link: ClusterLinkState
        var nodesUp = 1
        var incarnation = Int64.random(in: 1...Int64.max)
        /// The listener's current connection, so that the watchdog can close it when it has gone deaf.
        var listenerConnection: PostgresConnection?
        /// Settled `false` by the watchdog to make the listener give its current session up (``listenAndAnswer``).
        var listenerSession: FirstOutcome?
        /// The last listener connection that caught up.
        var caughtUpOn: PostgresConnection?
        /// The number of the last probe a heartbeat sent.
        var probesSent: UInt64 = 0
        /// Room lines waiting for the next batch.
        var outgoing: [OutgoingLine] = []
        /// Presence, bans and relays waiting for the work queue, in order.
        var work: [WorkItem] = []
        /// The relays carried out lately, so that none is carried out twice.
        var recentRelays = RecentRelays()
    }

    let state: NIOLockedValueBox<State>
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
    /// Where each heartbeat sends a probe (its incarnation) that the node's own listener must hear.
    static let probeChannel = "securechat_probe"

    public init(
        configuration: ClusterConfiguration,
        historyLines: Int,
        bans: BanStore,
        accounts: AccountStore,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        group: any EventLoopGroup
    ) throws {
        self.nodeName = configuration.nodeName
        self.configuration = configuration
        self.historyLines = historyLines
        self.bans = bans
        self.accounts = accounts
        self.metrics = ClusterMetrics(registry: registry)
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeName)"
        self.logger = logger
        self.group = group
        self.incarnationFile = IncarnationFile(
            path: configuration.incarnationFile ?? IncarnationFile.defaultPath(nodeName: configuration.nodeName))
        let base = try configuration.connectionConfiguration()
        let connection = { (role: String, id: Int) in
            DatabaseConnection(
                configuration: Self.named(base, node: configuration.nodeName, role: role),
                keepalive: configuration.keepalive, eventLoop: group.next(), id: id, logger: logger)
        }
        self.connectionConfiguration = Self.named(base, node: configuration.nodeName, role: "listener")
        self.publisherConnection = connection("publisher", 2)
        self.workConnection = connection("work", 3)
        self.heartbeatConnection = connection("heartbeat", 4)
        self.pruneConnection = connection("prune", 5)
        self.state = NIOLockedValueBox(
            State(link: ClusterLinkState(nodeTimeout: configuration.nodeTimeout, probeGrace: configuration.probeGrace)))
        (publisherSignals, publisherWakeUps) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (workSignals, workWakeUps) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        metrics.linkUp.set(Int64(1))
        metrics.nodesUp.set(Int64(1))
    }

    var hub: Hub? { state.withLockedValue { $0.hub } }
    var incarnation: Int64 { state.withLockedValue { $0.incarnation } }

    public var isLinked: Bool { state.withLockedValue { $0.link.isLive } }
    /// Room events are committed only while the link is live.
    public var isWritable: Bool { isLinked }
    /// Back from an outage (paused, out or rejoining): presence is put right as the listener catches up.
    var isRecovering: Bool { state.withLockedValue { $0.link.isRecovering } }
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
        _ = state.withLockedValue { $0.link.joined(at: .now()) }
        logger.notice("joined the cluster", metadata: ["incarnation": "\(incarnation)"])
    }

    /// Runs the listener, the publisher, the work queue and the heartbeat until cancelled.
    public func run() async {
        let loops: [(String, @Sendable () async -> Void)] = [
            ("listener", listen), ("publisher", publishLoop), ("work", workLoop), ("heartbeat", heartbeatLoop),
            ("watchdog", watchdogLoop), ("prune", pruneLoop),
        ]
        await withDiscardingTaskGroup { group in
            for (name, loop) in loops {
                group.addTask {
                    await loop()
                    self.logger.debug("cluster loop ended", metadata: ["loop": "\(name)"])
                }
            }
        }
    }

    /// `base` with the backend named `securechat <node> <role>` (PostgreSQL's `application_name`), so that an
    /// operator reading `pg_stat_activity` can tell each node's connections apart, and which one is which.
    static func named(
        _ base: PostgresConnection.Configuration, node: String, role: String
    ) -> PostgresConnection.Configuration {
        var configuration = base
        configuration.options.additionalStartupParameters.append(("application_name", "securechat \(node) \(role)"))
        return configuration
    }

    /// Leaves the cluster at shutdown: this node's members are announced as gone now, not after the timeout.
    public func retire() async {
        defer { incarnationFile.release() }
        // What the sessions queued as they ended (their last lines, their departures) is committed first, fenced
        // like any batch: `securechat_retire` then returns only the members still here, each announced once.
        await drainPublisher(timeout: .seconds(2))
        // From here on nothing brings the link back or registers the node again (its own departure, heard by
        // its listener, is not a reason to rejoin).
        _ = state.withLockedValue { $0.link.stop() }
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
        // What is still queued will never be committed: nobody waits for it.
        state.withLockedValue { QueuedWork(takingFrom: &$0) }.refuse()
        await publisherConnection.drop()
        await workConnection.drop()
        await heartbeatConnection.drop()
        await pruneConnection.drop()
    }

    // MARK: - Link state

    /// The listener lost the database: chat pauses here, and everyone here is told once.
    func linkLost(_ error: any Error) async {
        let action = state.withLockedValue { state -> ClusterLinkState.Action in
            state.listenerConnection = nil
            return state.link.listenerLost()
        }
        await carryOut(action, because: error)
    }

    /// The listener caught up after a reconnect: chat resumes once a heartbeat has succeeded too.
    func linkRestored() async {
        await carryOut(state.withLockedValue { $0.link.listenerCaughtUp() })
    }

    /// Does what the link's state machine asked for.
    func carryOut(_ action: ClusterLinkState.Action, because error: (any Error)? = nil) async {
        switch action {
        case .none:
            return
        case .pause:
            // Chat lines still waiting for a batch are refused now: their senders should not wait out the outage.
            let refused = state.withLockedValue { state -> [CommitReceipt] in
                let refused = state.outgoing.compactMap(\.receipt)
                state.outgoing.removeAll { $0.receipt != nil }
                return refused
            }
            for receipt in refused { receipt.resolve(.notSent) }
            metrics.linkUp.set(Int64(0))
            logger.error(
                "lost the cluster database; chat is paused",
                metadata: ["error": "\(error.map(ClusterError.reason) ?? "unknown")"])
            await hub?.linkDown()
            // Whatever broke one connection may have broken the others silently (a NAT that forgot every flow):
            // each is opened afresh when next used, rather than found dead by a commit or a login.
            await publisherConnection.drop()
            await workConnection.drop()
            await heartbeatConnection.drop()
            await pruneConnection.drop()
        case .resume:
            metrics.linkUp.set(Int64(1))
            await hub?.linkUp()
            logger.notice("cluster database is back; chat resumed")
            publisherWakeUps.yield()
            workWakeUps.yield()
        case .goOut:
            // The others may have declared this node down by now: what waited to be claimed or relayed is given
            // up, and nothing queued is committed until a heartbeat proves this incarnation is still registered.
            let refused = state.withLockedValue { state -> [CommitReceipt] in
                let refused = state.outgoing.compactMap(\.receipt)
                state.outgoing.removeAll { $0.receipt != nil }
                state.work.removeAll { item in
                    switch item {
                    case .claim(_, _, _, let continuation): continuation.resume(returning: .unavailable)
                    case .relay(_, let receipt): receipt?.resolve(.notSent)
                    case .banAdded, .bansLifted, .reconcilePresence: return false
                    }
                    return true
                }
                return refused
            }
            for receipt in refused { receipt.resolve(.notSent) }
            logger.error("no heartbeat for a full node timeout; this node treats itself as out of the cluster")
        case .restartListener:
            logger.warning("the listener did not hear this node's own probe in time; reconnecting it")
            let (connection, session) = state.withLockedValue { ($0.listenerConnection, $0.listenerSession) }
            // The listener stops waiting for its session, whatever that waits for, reports the loss and reconnects;
            // closing the connection ends the session.
            session?.settle(false)
            if let connection { Task { try? await connection.close() } }
        case .rejoin:
            // Carried out by `lostPlace`, which knows the incarnation that was declared down.
            return
        }
    }

    /// `* bob left #lobby (reason)`, published for a member whose node cannot say it any more.
    func announceDeparture(of name: String, from room: String, reason: CloseReason) {
        guard let room = RoomName(parsing: room) else { return }
        _ = append(
            .left(name: name, room: room, text: reason.leaveNotice(name: name, room: room)), to: room, except: nil,
            confirmed: false)
    }

    static func departures(_ rows: PostgresRowSequence) async throws -> [(String, String)] {
        var result: [(String, String)] = []
        for try await (name, room) in rows.decode((String, String).self) { result.append((name, room)) }
        return result
    }
}
