import NIOConcurrencyHelpers
import NIOCore
import SecureChat

/// `soak` (bench/soak.sh): D seconds of mixed load over both transports against a server with its abuse
/// limits on (rate limit included).
///
/// - Steady clients (``SoakPlan``) sit in their rooms for the whole run and write at a pace under the rate
///   limit: room lines, and direct messages across rooms. Each checks every line of the others it should
///   get (sender and sequence number in the text, ``SoakLedger``): none may be missed, duplicated or
///   reordered, none may get an error line or lose its connection.
/// - Around them: churners (log in, chat, `/quit`, close or reset; drop before login, TLS mid-handshake),
///   room movers, flooders (cut off for flooding, or refused in part), slow readers (evicted), garbage and
///   half handshakes on the TLS port, TLS on the plaintext port.
public struct SoakScenario: Sendable {
    public var seconds: Double
    public var plan: SoakPlan
    public var churners: Int
    public var churnPause: TimeAmount
    public var movers: Int
    public var flooders: Int
    public var slowReaders: Int
    public var slowStall: TimeAmount
    public var abusers: Int
    public var halfHandshakers: Int
    /// Longest wait for one step of one client (login, pong, the server's close after `/quit`).
    public var timeout: TimeAmount

    public init(
        seconds: Double, plan: SoakPlan, churners: Int, churnPauseMilliseconds: Int, movers: Int, flooders: Int,
        slowReaders: Int, slowStallSeconds: Int, abusers: Int, halfHandshakers: Int, timeoutSeconds: Int
    ) throws(BenchError) {
        guard seconds > 0, churners >= 0, churnPauseMilliseconds >= 0, movers >= 0, flooders >= 0, slowReaders >= 0,
            slowStallSeconds >= 1, abusers >= 0, halfHandshakers >= 0, timeoutSeconds >= 1
        else {
            throw .invalidOption("soak needs a duration > 0, worker counts >= 0, a stall and a timeout >= 1 s")
        }
        self.seconds = seconds
        self.plan = plan
        self.churners = churners
        self.churnPause = .milliseconds(Int64(churnPauseMilliseconds))
        self.movers = movers
        self.flooders = flooders
        self.slowReaders = slowReaders
        self.slowStall = .seconds(Int64(slowStallSeconds))
        self.abusers = abusers
        self.halfHandshakers = halfHandshakers
        self.timeout = .seconds(Int64(timeoutSeconds))
    }

    public func run(_ env: BenchEnvironment) async throws -> BenchResult {
        let (plaintext, secure) = try env.bothTransports()
        let plan = self.plan
        let prefix = env.namePrefix
        func name(_ steady: Int) -> String { "\(prefix)s\(steady)" }

        // Steady clients: log in, go to their rooms, and wait until every one of them is there.
        env.progress.say("logging in \(plan.steadyCount) steady clients in \(plan.groups.count) rooms")
        let steady = try await Self.connectSteady(env: env, plan: plan, plaintext: plaintext, secure: secure)
        for (index, connection) in steady.enumerated() where plan.groups[plan.group(ofSteady: index)].room != "#lobby" {
            try await connection.send(["/join \(plan.groups[plan.group(ofSteady: index)].room)"])
        }
        try await Self.barrier(steady)
        try await env.connector.shards.forEach { shard in
            shard.recordsLatency = true
            shard.latency = LatencyRecorder()
            shard.deliveries = 0
        }

        let start = NIODeadline.now()
        let deadline = start + .nanoseconds(Int64(seconds * 1e9))
        for (index, connection) in steady.enumerated() {
            let group = plan.groups[plan.group(ofSteady: index)]
            let interval = TimeAmount.milliseconds(Int64(group.intervalMilliseconds))
            // Spread the senders' ticks over one interval.
            let phase = TimeAmount.nanoseconds(interval.nanoseconds * Int64(index % 10) / 10)
            let partner = plan.directPartner(of: index).map(name)
            let directEvery = plan.directEvery
            _ = try await connection.withHandler { handler in
                handler.startPacing(
                    sender: index, start: start + .milliseconds(100) + phase, interval: interval, bytes: group.bytes,
                    partner: partner, directEvery: directEvery)
            }
        }
        env.progress.say("steady clients sending; background load for \(Int(seconds)) s")

        let counters = NIOLockedValueBox(SoakCounters())
        let workers = SoakWorkers(
            env: env, plaintext: plaintext, secure: secure, plan: plan, deadline: deadline, timeout: timeout,
            slowStall: slowStall, slowReaders: slowReaders, churnPause: churnPause, counters: counters,
            serial: NIOLockedValueBox(plan.steadyCount))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<churners { group.addTask { await workers.churner() } }
            for worker in 0..<movers { group.addTask { await workers.mover(worker) } }
            for worker in 0..<flooders { group.addTask { await workers.flooder(worker) } }
            for worker in 0..<slowReaders { group.addTask { await workers.slowReader(worker) } }
            for worker in 0..<abusers { group.addTask { await workers.abuser(worker) } }
            for worker in 0..<halfHandshakers { group.addTask { await workers.halfHandshaker(worker) } }
            group.addTask {
                while NIODeadline.now() < deadline {
                    try? await Task.sleep(nanoseconds: 10_000_000_000)
                    let elapsed = (NIODeadline.now() - start).nanoseconds / 1_000_000_000
                    let deliveries = (try? await env.connector.shards.snapshot().deliveries) ?? 0
                    let summary = counters.withLockedValue { $0.summary }
                    env.progress.say("\(elapsed) s: \(deliveries) steady deliveries; \(summary)")
                }
            }
        }

        // The end: stop the steady senders, then two barriers, so that every line each one sent has reached
        // every receiver (a sender's pong follows its lines through the hub; a receiver's pong follows
        // everything queued for it), then judge.
        env.progress.say("stopping; checking every steady client's lines")
        for connection in steady { _ = try await connection.withHandler { $0.stopPacing() } }
        try await Self.barrier(steady)
        try await Self.barrier(steady)
        let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        var reports: [ScriptedClientReport] = []
        var ledgers: [SoakLedger] = []
        for connection in steady {
            let (report, ledger) = try await connection.withHandler { ($0.report, $0.ledger!) }
            reports.append(report)
            ledgers.append(ledger)
        }
        let roomSent = reports.map(\.roomLinesSent)
        let directSent = reports.map(\.directLinesSent)
        var tally = DeliveryTally()
        for ledger in ledgers { tally.add(ledger.verdict(plan: plan, roomSent: roomSent, directSent: directSent)) }
        let snapshot = try await env.connector.shards.snapshot()
        for connection in steady { _ = await connection.quit("soak over", timeout: timeout) }

        let steadyErrors = reports.reduce(0) { $0 + $1.errorCount + $1.refusals }
        let steadyLost = reports.filter(\.unexpectedClose).count
        let totals = counters.withLockedValue { $0 }
        var result = BenchResult(scenario: "soak", transport: "mixed")
        result.add("duration_s", "load time", elapsed, unit: "s")
        result.add("steady_clients", "steady clients", plan.steadyCount)
        result.add("rooms", "steady rooms", plan.groups.map(\.room).joined(separator: " "))
        result.add("room_lines_sent", "room lines sent by steady clients", roomSent.reduce(0, +))
        result.add("direct_lines_sent", "direct messages sent by steady clients", directSent.reduce(0, +))
        result.add("expected", "steady deliveries expected", tally.expected)
        result.add("received", "steady deliveries received", tally.received)
        result.add("missing", "missing", tally.missing)
        result.add("duplicates", "duplicates", tally.duplicates)
        result.add("out_of_order", "out of order", tally.outOfOrder)
        result.add("unexpected", "unexpected lines", tally.unexpected)
        result.add("steady_errors", "error lines at steady clients", steadyErrors)
        result.add("steady_lost", "steady clients disconnected", steadyLost)
        result.add("mover_errors", "error lines at room movers", totals.moverErrors)
        let wellBehaved =
            tally.isPerfect && tally.expected > 0 && steadyErrors == 0 && steadyLost == 0 && totals.moverErrors == 0
        result.add("well_behaved_ok", "every well-behaved line exactly once, in order, no error", wellBehaved)
        let summary = snapshot.latency.summary
        result.add("latency_p50_ms", "steady line latency p50", summary.p50, unit: "ms")
        result.add("latency_p99_ms", "steady line latency p99", summary.p99, unit: "ms")
        result.add("latency_max_ms", "steady line latency max", summary.max, unit: "ms")
        for kind in ChurnKind.allCases {
            result.add("churn_\(kind.rawValue)", "churn: \(kind.rawValue)", totals.churn[kind] ?? 0)
        }
        result.add("mover_sessions", "room mover sessions", totals.moverSessions)
        result.add("moves", "room moves", totals.moves)
        result.add("floods", "floods", totals.floods)
        result.add("flood_disconnects", "floods disconnected for flooding", totals.floodDisconnects)
        result.add("bursts", "bursts over the limit (stayed)", totals.bursts)
        result.add("refusals", "lines refused by the rate limit", totals.refusals)
        result.add("slow_readers", "slow readers", totals.slowReaders)
        result.add("slow_evicted", "slow readers evicted", totals.slowEvicted)
        result.add("slow_cut_short", "slow readers cut short by the end", totals.slowCutShort)
        result.add("garbage", "garbage / HTTP on the TLS port, closed", totals.garbage)
        result.add("half_handshakes", "half handshakes closed at the login timeout", totals.halfHandshakes)
        result.add("tls_on_plaintext", "TLS on the plaintext port, answered and closed", totals.tlsOnPlaintext)
        result.add("failures", "background clients not treated as README says", totals.failures)
        let kinds = totals.failureKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        if !kinds.isEmpty { result.add("failure_kinds", "failures by kind", kinds.joined(separator: ", ")) }
        for (index, text) in totals.failureTexts.enumerated() { result.add("failure_\(index + 1)", "failure", text) }
        for (index, text) in reports.flatMap(\.errors).prefix(3).enumerated() {
            result.add("steady_error_\(index + 1)", "steady error", text)
        }
        return result
    }

    static func connectSteady(
        env: BenchEnvironment, plan: SoakPlan, plaintext: BenchTarget, secure: BenchTarget
    ) async throws -> [ScriptedConnection] {
        var connections: [ScriptedConnection] = []
        for index in 0..<plan.steadyCount {
            let connection = try await env.connector.connectScripted(
                index: index, name: "\(env.namePrefix)s\(index)",
                target: plan.usesTLS(steady: index) ? secure : plaintext
            ) { handler in
                handler.ledger = SoakLedger(owner: index)
            }.get()
            try await connection.loggedIn.get()
            connections.append(connection)
        }
        return connections
    }

    /// Every connection pings, and every pong has arrived.
    static func barrier(_ connections: [ScriptedConnection]) async throws {
        let pongs = connections.map { connection in connection.onLoop { $0.ping() } }
        for pong in pongs { try await pong.get() }
    }
}
