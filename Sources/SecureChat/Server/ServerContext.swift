import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Everything the server's parts share, built once: configuration, the hub, counters and metrics, the
/// connection limits, the TLS certificates, and the registry of open connections. The server and every
/// session hold this one reference instead of copies of its fields.
final class ServerContext: Sendable {
    /// The configuration; a SIGHUP reload replaces its reloadable settings (``apply(reloaded:)``).
    var configuration: Configuration { liveConfiguration.withLockedValue { $0 } }
    private let liveConfiguration: NIOLockedValueBox<Configuration>
    /// Rate, burst and flood settings, followed by every session, online ones included.
    let liveThrottle: LiveThrottleSettings
    let hub: Hub
    /// The link to the other nodes (`--cluster`); nil for a single node.
    let cluster: ClusterLink?
    /// The ban list the hub keeps, read here to refuse banned addresses at accept.
    let bans: BanStore
    /// The registered names (`--account-file`); nil when accounts are off.
    let accounts: AccountService?
    let counters: ServerCounters
    let metrics: ServerMetrics
    let limiter: ConnectionLimiter
    /// Replaced (buckets and all) when a reload changes its settings.
    var acceptThrottle: AcceptThrottle { liveAcceptThrottle.withLockedValue { $0 } }
    private let liveAcceptThrottle: NIOLockedValueBox<AcceptThrottle>
    /// Lines and bytes per address, shared by its connections.
    let addressBudget: AddressLineBudget
    /// The TLS certificate in use; nil without a TLS listener.
    let tlsContexts: TLSContextStore?
    /// Refusals (limits, failed handshakes) are logged at a bounded rate.
    let refusalLog: LogRateLimiter
    /// Evictions (slow readers, stalled writers) are logged at a bounded rate.
    let evictionLog = LogRateLimiter(maxPerInterval: 20, interval: .seconds(1))
    let logger: Logger
    let group: any EventLoopGroup
    /// Every open connection's outbox, for the shutdown notice and drain.
    let connections = NIOLockedValueBox(ConnectionRegistry())
    /// False once shutdown has begun: `/healthz` fails and late arrivals are sent away.
    let accepting = NIOLockedValueBox(true)
    private let lastConnectionID = Atomic<UInt64>(0)
    /// The TLS listener's bound port (0 until it is bound, or without one), for the hint plaintext users get.
    private let boundTLSPort = Atomic<Int>(0)

    init(
        configuration: Configuration,
        hub: Hub,
        cluster: ClusterLink?,
        bans: BanStore,
        accounts: AccountService? = nil,
        counters: ServerCounters,
        metrics: ServerMetrics,
        limiter: ConnectionLimiter,
        tlsContexts: TLSContextStore?,
        logger: Logger,
        group: any EventLoopGroup
    ) {
        self.liveConfiguration = NIOLockedValueBox(configuration)
        self.liveThrottle = LiveThrottleSettings(configuration.lineThrottle)
        self.hub = hub
        self.cluster = cluster
        self.bans = bans
        self.accounts = accounts
        self.counters = counters
        self.metrics = metrics
        self.limiter = limiter
        self.liveAcceptThrottle = NIOLockedValueBox(Self.acceptThrottle(for: configuration))
        self.addressBudget = AddressLineBudget(
            linesPerSecond: configuration.addressLinesPerSecond, bytesPerSecond: configuration.addressBytesPerSecond
        )
        self.tlsContexts = tlsContexts
        self.refusalLog = LogRateLimiter(maxPerInterval: 10, interval: .seconds(1))
        self.logger = logger
        self.group = group
    }

    func nextConnectionID() -> ConnectionID {
        ConnectionID(lastConnectionID.add(1, ordering: .relaxed).newValue)
    }

    var tlsPort: Int? {
        let port = boundTLSPort.load(ordering: .relaxed)
        return port == 0 ? nil : port
    }

    func tlsListenerBound(port: Int) {
        boundTLSPort.store(port, ordering: .relaxed)
    }

    var isAccepting: Bool { accepting.withLockedValue { $0 } }

    /// Takes a reloaded configuration's reloadable settings: new connections get its timeouts and limits, online
    /// sessions its rate, burst and flood settings from their next line on.
    func apply(reloaded: Configuration) {
        let (old, new) = liveConfiguration.withLockedValue { current in
            let old = current
            current = current.withReloadableSettings(of: reloaded)
            return (old, current)
        }
        if (old.ratePerSecond, old.burst, old.floodRefusals, old.floodWindow)
            != (new.ratePerSecond, new.burst, new.floodRefusals, new.floodWindow)
        {
            liveThrottle.replace(with: new.lineThrottle)
        }
        if (old.connectRatePerAddress, old.connectBurst, old.connectRatePerIPv6Network)
            != (new.connectRatePerAddress, new.connectBurst, new.connectRatePerIPv6Network)
        {
            liveAcceptThrottle.withLockedValue { $0 = Self.acceptThrottle(for: new) }
        }
        limiter.setCaps(
            maxPerAddress: new.maximumConnectionsPerAddress, maxPerIPv6Network: new.maximumConnectionsPerIPv6Network)
    }

    private static func acceptThrottle(for configuration: Configuration) -> AcceptThrottle {
        AcceptThrottle(
            ratePerSecond: configuration.connectRatePerAddress, burst: configuration.connectBurst,
            networkRatePerSecond: configuration.connectRatePerIPv6Network
        )
    }
}
