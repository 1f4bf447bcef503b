import NIOCore

/// `latency`: N clients in one room; S senders each send R messages/s for D seconds, each message carrying
/// its send time. Reports the delivery latency distribution (send by one client to read by another).
public struct LatencyScenario: Sendable {
    public var clients: Int
    public var senders: Int
    public var rate: Double
    public var seconds: Double
    public var bytes: Int

    public init(clients: Int, senders: Int, rate: Double, seconds: Double, bytes: Int) throws(BenchError) {
        guard clients >= 2, senders >= 1, senders <= clients, rate > 0, rate <= 100_000, seconds > 0, bytes >= 1
        else {
            throw .invalidOption("latency needs clients >= 2, 1 <= senders <= clients, rate > 0, duration > 0")
        }
        self.clients = clients
        self.senders = senders
        self.rate = rate
        self.seconds = seconds
        self.bytes = bytes
    }

    public var messagesPerSender: Int { max(1, Int((rate * seconds).rounded())) }

    /// What one run measured: the figures, and the latency distribution behind them (all deliveries, cross-node
    /// and same-node together) for `--distribution`.
    public struct Measurement: Sendable {
        public var result: BenchResult
        public var latency: LatencyRecorder
    }

    public func run(_ env: BenchEnvironment) async throws -> BenchResult {
        try await measure(env).result
    }

    public func measure(_ env: BenchEnvironment) async throws -> Measurement {
        let prefix = env.namePrefix
        env.progress.say("connecting \(clients) clients (\(env.transport), \(env.targets.count) target(s))")
        let connections = try await ConnectionPool.connectAll(
            count: clients, concurrency: env.loginConcurrency, progress: env.progress
        ) { index in
            env.connector.connect(index: index, name: "\(prefix)l\(index)", target: env.target(forClient: index)) {
                handler in
                env.place(handler, client: index)
            }
        }
        try await ConnectionPool.barrier(connections, stallTimeout: env.stallTimeout)
        try await env.connector.shards.forEach { shard in
            shard.recordsLatency = true
            shard.latency = LatencyRecorder()
        }
        env.progress.say("all logged in; \(senders) senders x \(rate) msg/s for \(seconds) s")

        let count = messagesPerSender
        let interval = TimeAmount.nanoseconds(Int64(1e9 / rate))
        let start = NIODeadline.now() + .milliseconds(50)
        let bytes = self.bytes
        let senders = self.senders
        let before = env.sampleServer()
        let clientBefore = env.sampleClient()
        for (index, connection) in connections.prefix(senders).enumerated() {
            // Spread the senders over one interval so their messages do not all leave at the same instant.
            let phase = TimeAmount.nanoseconds(interval.nanoseconds * Int64(index) / Int64(senders))
            _ = connection.onLoop { handler in
                handler.sendPaced(sender: index, count: count, size: bytes, start: start + phase, interval: interval)
                return handler.loginFuture
            }
        }
        let expected = senders * count * (clients - 1)
        let snapshot = try await env.awaitDeliveries(expected, startedAt: start)
        let after = env.sampleServer()
        let clientAfter = env.sampleClient()
        await ConnectionPool.closeAll(connections)

        let elapsed = Double(NIODeadline.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let summary = snapshot.latency.summary
        var result = BenchResult(scenario: "latency", transport: env.transport)
        result.add("clients", "clients", clients)
        result.add("senders", "senders", senders)
        result.add("rate_per_sender", "messages/s per sender", rate)
        result.add("duration_s", "sending time", seconds, unit: "s")
        result.add("message_bytes", "message size", bytes, unit: "B")
        result.add("expected", "expected deliveries", expected)
        result.add("received", "received deliveries", snapshot.deliveries)
        result.add("p50_ms", "p50", summary.p50, unit: "ms")
        result.add("p90_ms", "p90", summary.p90, unit: "ms")
        result.add("p99_ms", "p99", summary.p99, unit: "ms")
        result.add("p999_ms", "p99.9", summary.p999, unit: "ms")
        result.add("max_ms", "max", summary.max, unit: "ms")
        result.add("mean_ms", "mean", summary.mean, unit: "ms")
        if env.isMultiTarget {
            result.addTargetSplit(env, snapshot, elapsed: nil)
            for (prefix, label, recorder) in [
                ("cross_node", "cross-node", snapshot.crossLatency), ("same_node", "same-node", snapshot.sameLatency),
            ] {
                let part = recorder.summary
                result.add("\(prefix)_p50_ms", "\(label) p50", part.p50, unit: "ms")
                result.add("\(prefix)_p90_ms", "\(label) p90", part.p90, unit: "ms")
                result.add("\(prefix)_p99_ms", "\(label) p99", part.p99, unit: "ms")
                result.add("\(prefix)_p999_ms", "\(label) p99.9", part.p999, unit: "ms")
                result.add("\(prefix)_max_ms", "\(label) max", part.max, unit: "ms")
            }
        }
        result.addServerCPU(before: before, after: after, elapsed: elapsed)
        result.addClientCPU(before: clientBefore, after: clientAfter, elapsed: elapsed)
        result.addErrors(snapshot)
        return Measurement(result: result, latency: snapshot.latency)
    }
}
