import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What every scenario needs: the connector, the server's ports, names, the server's pid, progress.
public struct BenchEnvironment: Sendable {
    public var connector: Connector
    /// The port the scenario uses (plaintext or TLS, by `--tls`); with several targets, the first.
    public var target: BenchTarget
    /// Every server the clients are spread over, round robin (`--targets`); just `target` by default.
    public var targets: [BenchTarget]
    /// The other transport, for mixed scenarios (`idle --tls-ratio`): the TLS port when `target` is
    /// plaintext and the other way round; `nil` if not configured.
    public var alternateTarget: BenchTarget?
    /// Prefix of every username, so runs against one server never collide.
    public var namePrefix: String
    /// The server processes, for RSS and CPU figures (summed over all of them).
    public var serverPIDs: [Int32]
    public var progress: ProgressReporter
    /// Clients logging in at once.
    public var loginConcurrency: Int
    /// Give up waiting for deliveries after this long without any progress.
    public var stallTimeout: TimeAmount

    public init(
        connector: Connector, target: BenchTarget, alternateTarget: BenchTarget?, namePrefix: String,
        serverPID: Int32?, progress: ProgressReporter, loginConcurrency: Int, stallTimeout: TimeAmount
    ) {
        self.init(
            connector: connector, targets: [target], alternateTarget: alternateTarget, namePrefix: namePrefix,
            serverPIDs: serverPID.map { [$0] } ?? [], progress: progress, loginConcurrency: loginConcurrency,
            stallTimeout: stallTimeout)
    }

    /// Several targets: clients are spread over `targets` round robin (see ``TargetAssignment``).
    public init(
        connector: Connector, targets: [BenchTarget], alternateTarget: BenchTarget?, namePrefix: String,
        serverPIDs: [Int32], progress: ProgressReporter, loginConcurrency: Int, stallTimeout: TimeAmount
    ) {
        precondition(!targets.isEmpty, "at least one target")
        self.connector = connector
        self.target = targets[0]
        self.targets = targets
        self.alternateTarget = alternateTarget
        self.namePrefix = namePrefix
        self.serverPIDs = serverPIDs
        self.progress = progress
        self.loginConcurrency = loginConcurrency
        self.stallTimeout = stallTimeout
    }

    public var transport: String { target.tls == nil ? "plaintext" : "tls" }

    /// How clients are spread over ``targets``.
    public var assignment: TargetAssignment { TargetAssignment(targets: targets.count) }

    /// More than one target: deliveries are counted as crossing targets or not.
    public var isMultiTarget: Bool { targets.count > 1 }

    /// The target of client `index` (round robin).
    public func target(forClient index: Int) -> BenchTarget {
        targets[assignment.target(ofClient: index)]
    }

    /// Tells client `index`'s handler where it and the senders are, when there are several targets.
    public func place(_ handler: BenchClientHandler, client index: Int) {
        guard isMultiTarget else { return }
        handler.placement = (target: assignment.target(ofClient: index), assignment: assignment)
    }

    /// The servers' memory and CPU now, summed, if `--server-pid` was given and every process exists.
    public func sampleServer() -> ProcessSample? {
        guard !serverPIDs.isEmpty else { return nil }
        var total = ProcessSample(residentBytes: 0, cpuSeconds: 0)
        for pid in serverPIDs {
            guard let sample = ProcessSample.read(pid: pid) else { return nil }
            total.residentBytes += sample.residentBytes
            total.cpuSeconds += sample.cpuSeconds
        }
        return total
    }

    /// This benchmark process's own memory and CPU now.
    public func sampleClient() -> ProcessSample? {
        ProcessSample.read(pid: getpid())
    }

    /// Waits until `deliveries` reach `expected`, or until they stop growing for `stallTimeout`; returns
    /// the last snapshot. Reports progress on the way.
    public func awaitDeliveries(_ expected: Int, startedAt start: NIODeadline) async throws -> ShardSnapshot {
        var snapshot = try await connector.shards.snapshot()
        var lastCount = snapshot.deliveries
        var lastChange = NIODeadline.now()
        while snapshot.deliveries < expected {
            try await Task.sleep(nanoseconds: 100_000_000)
            snapshot = try await connector.shards.snapshot()
            let now = NIODeadline.now()
            if snapshot.deliveries != lastCount {
                lastCount = snapshot.deliveries
                lastChange = now
            } else if now - lastChange > stallTimeout {
                progress.say("no deliveries for \(stallTimeout.nanoseconds / 1_000_000_000) s; giving up")
                break
            }
            let seconds = Double((now - start).nanoseconds) / 1e9
            progress.update(
                "\(snapshot.deliveries)/\(expected) deliveries, \(BenchResult.formatDecimal(Double(snapshot.deliveries) / seconds / 1e6)) M/s"
            )
        }
        return snapshot
    }
}

extension BenchResult {
    /// Adds the server's CPU use between two samples, and per `per` units of work.
    mutating func addServerCPU(before: ProcessSample?, after: ProcessSample?, elapsed: Double) {
        guard let before, let after else { return }
        let cpu = after.cpuSeconds - before.cpuSeconds
        add("server_cpu_s", "server CPU", cpu, unit: "s")
        if elapsed > 0 { add("server_cpu_util", "server CPU utilisation", cpu / elapsed * 100, unit: "%") }
    }

    /// Adds chatbench's own CPU use: near 100 % of its CPUs means the load tool, not the server, was the limit.
    mutating func addClientCPU(before: ProcessSample?, after: ProcessSample?, elapsed: Double) {
        guard let before, let after, elapsed > 0 else { return }
        add(
            "client_cpu_util", "chatbench CPU utilisation", (after.cpuSeconds - before.cpuSeconds) / elapsed * 100,
            unit: "%")
    }

    /// With several targets: how many, and the deliveries that crossed from one target to another.
    mutating func addTargetSplit(_ env: BenchEnvironment, _ snapshot: ShardSnapshot, elapsed: Double?) {
        add("targets", "targets", env.targets.map { "\($0.host):\($0.port)" }.joined(separator: ","))
        add("cross_node_deliveries", "cross-node deliveries", snapshot.crossDeliveries)
        add("same_node_deliveries", "same-node deliveries", snapshot.sameDeliveries)
        let counted = snapshot.crossDeliveries + snapshot.sameDeliveries
        if counted > 0 {
            add("cross_node_share", "cross-node share", Double(snapshot.crossDeliveries) / Double(counted))
        }
        if let elapsed, elapsed > 0 {
            add("cross_node_deliveries_per_s", "cross-node deliveries/s", Double(snapshot.crossDeliveries) / elapsed)
        }
    }

    mutating func addErrors(_ snapshot: ShardSnapshot) {
        add("unexpected_closes", "connections lost", snapshot.unexpectedCloses)
        add("errors", "errors", snapshot.errorCount)
        if let first = snapshot.errors.first { add("first_error", "first error", first) }
    }
}
