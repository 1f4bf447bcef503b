import NIOCore

/// `idle`: N logged-in connections that say nothing (a share of them TLS); reports the server's resident
/// memory per connection and the time to log them all in, and optionally the time one message takes to
/// reach all of them.
public struct IdleScenario: Sendable {
    public var connections: Int
    /// Share of connections made to the other port (`--tls-ratio`): 0 = all on the main target.
    public var alternateRatio: Double
    /// Seconds to wait after login before sampling memory.
    public var settleSeconds: Double
    public var broadcast: Bool

    public init(connections: Int, alternateRatio: Double, settleSeconds: Double, broadcast: Bool) throws(BenchError) {
        guard connections >= 1, (0...1).contains(alternateRatio), settleSeconds >= 0 else {
            throw .invalidOption("idle needs connections >= 1, a ratio in 0...1, settle >= 0")
        }
        self.connections = connections
        self.alternateRatio = alternateRatio
        self.settleSeconds = settleSeconds
        self.broadcast = broadcast
    }

    /// Whether connection `index` uses the alternate target: spread evenly over the run.
    public static func usesAlternate(_ index: Int, ratio: Double) -> Bool {
        (Int((Double(index + 1) * ratio).rounded(.down))) > Int((Double(index) * ratio).rounded(.down))
    }

    public func run(_ env: BenchEnvironment) async throws -> BenchResult {
        let ratio = alternateRatio
        if ratio > 0, env.alternateTarget == nil {
            throw BenchError.invalidOption("a mixed idle run needs both --port and --tls-port")
        }
        let prefix = env.namePrefix
        let baseline = env.sampleServer()
        env.progress.say("opening \(connections) idle connections")
        let loginStart = NIODeadline.now()
        let clients = try await ConnectionPool.connectAll(
            count: connections, concurrency: env.loginConcurrency, progress: env.progress
        ) { index in
            let alternate = Self.usesAlternate(index, ratio: ratio)
            let target = alternate ? env.alternateTarget! : env.target(forClient: index)
            return env.connector.connect(index: index, name: "\(prefix)i\(index)", target: target)
        }
        let loginSeconds = Double((NIODeadline.now() - loginStart).nanoseconds) / 1e9
        env.progress.say("all \(connections) logged in after \(BenchResult.formatDecimal(loginSeconds)) s; draining")
        try await ConnectionPool.barrier(clients, stallTimeout: env.stallTimeout)
        let quietSeconds = Double((NIODeadline.now() - loginStart).nanoseconds) / 1e9
        if settleSeconds > 0 { try await Task.sleep(nanoseconds: UInt64(settleSeconds * 1e9)) }
        let loaded = env.sampleServer()

        var result = BenchResult(scenario: "idle", transport: ratio == 0 ? env.transport : "mixed")
        result.add("connections", "connections", connections)
        result.add("alternate_ratio", "share on the other port", ratio)
        result.add("login_s", "time to log all in", loginSeconds, unit: "s")
        result.add("logins_per_s", "logins/s", Double(connections) / loginSeconds)
        result.add("quiet_s", "time until all join notices delivered", quietSeconds, unit: "s")
        if let baseline, let loaded {
            result.add("server_rss_before_kb", "server RSS before", baseline.residentBytes / 1024, unit: "kB")
            result.add("server_rss_after_kb", "server RSS with connections", loaded.residentBytes / 1024, unit: "kB")
            let per = Double(loaded.residentBytes - baseline.residentBytes) / Double(connections) / 1000
            result.add("rss_per_connection_kb", "server RSS per connection", per, unit: "kB")
            result.add(
                "server_cpu_login_s", "server CPU for logins", loaded.cpuSeconds - baseline.cpuSeconds, unit: "s")
        }
        if broadcast, clients.count >= 2 {
            try await env.connector.shards.forEach { shard in
                shard.deliveries = 0
                shard.lastDeliveryNanos = 0
            }
            let sent = NIODeadline.now()
            _ = clients[0].onLoop { handler in
                handler.sendOne(sender: 0, sequence: 0, size: 64)
                return handler.loginFuture
            }
            let snapshot = try await env.awaitDeliveries(clients.count - 1, startedAt: sent)
            result.add("broadcast_received", "broadcast reached", snapshot.deliveries)
            let ms = Double(snapshot.lastDeliveryNanos &- sent.uptimeNanoseconds) / 1e6
            result.add("broadcast_ms", "one message to all", snapshot.lastDeliveryNanos == 0 ? -1 : ms, unit: "ms")
        }
        let snapshot = try await env.connector.shards.snapshot()
        result.addErrors(snapshot)
        await ConnectionPool.closeAll(clients)
        return result
    }
}
