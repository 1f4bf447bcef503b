import NIOConcurrencyHelpers
import NIOCore
import SecureChat

/// `churn` (bench/leakcheck.sh): N short-lived connections, C at a time, TLS and plaintext mixed. Each one
/// does what ``ChurnPlan`` gives its index: drop before login (for TLS: mid-handshake), or log in, chat,
/// and leave by `/quit`, a close, a reset or after a visit to a room of its own. Every connection is closed
/// before the run ends, so afterwards the server should hold exactly what it held before.
public struct ChurnScenario: Sendable {
    public var connections: Int
    public var concurrency: Int
    public var tlsRatio: Double
    /// Longest wait for any one step of one connection (connect, login, pong, the server's close).
    public var timeout: TimeAmount

    public init(connections: Int, concurrency: Int, tlsRatio: Double, timeoutSeconds: Int) throws(BenchError) {
        guard connections >= 1, concurrency >= 1, (0...1).contains(tlsRatio), timeoutSeconds >= 1 else {
            throw .invalidOption("churn needs connections >= 1, concurrency >= 1, a TLS ratio in 0...1, timeout >= 1")
        }
        self.connections = connections
        self.concurrency = concurrency
        self.tlsRatio = tlsRatio
        self.timeout = .seconds(Int64(timeoutSeconds))
    }

    /// Counts of one run, by kind.
    struct Tally: Sendable {
        var done: [ChurnKind: Int] = [:]
        var failed: [ChurnKind: Int] = [:]
        var tls = 0
        var plaintext = 0
        var firstErrors: [String] = []

        mutating func fail(_ kind: ChurnKind, _ text: String) {
            failed[kind, default: 0] += 1
            if firstErrors.count < 5 { firstErrors.append(text) }
        }
    }

    public func run(_ env: BenchEnvironment) async throws -> BenchResult {
        let (plaintext, secure) = try env.bothTransports()
        let tally = NIOLockedValueBox(Tally())
        let next = NIOLockedValueBox(0)
        let total = connections
        let ratio = tlsRatio
        let timeout = self.timeout
        env.progress.say("\(total) connections, \(concurrency) at a time, \(Int(ratio * 100)) % TLS")
        let start = NIODeadline.now()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(concurrency, total) {
                group.addTask {
                    while true {
                        let index = next.withLockedValue { value -> Int? in
                            guard value < total else { return nil }
                            defer { value += 1 }
                            return value
                        }
                        guard let index else { return }
                        let tls = ChurnPlan.usesTLS(index, ratio: ratio)
                        let kind = ChurnPlan.kind(of: index)
                        let error = await Self.one(
                            index: index, kind: kind, target: tls ? secure : plaintext, env: env, timeout: timeout)
                        let finished = tally.withLockedValue { tally -> Int in
                            if tls { tally.tls += 1 } else { tally.plaintext += 1 }
                            if let error {
                                tally.fail(kind, "#\(index) \(kind.rawValue) \(tls ? "tls" : "plaintext"): \(error)")
                            } else {
                                tally.done[kind, default: 0] += 1
                            }
                            return tally.tls + tally.plaintext
                        }
                        env.progress.update("\(finished)/\(total) connections")
                    }
                }
            }
        }
        let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        let counts = tally.withLockedValue { $0 }
        var result = BenchResult(scenario: "churn", transport: "mixed")
        result.add("connections", "connections", total)
        result.add("concurrency", "at a time", concurrency)
        result.add("tls_connections", "over TLS", counts.tls)
        result.add("plaintext_connections", "over plaintext", counts.plaintext)
        for kind in ChurnKind.allCases {
            result.add("\(kind.rawValue)_ok", "\(kind.rawValue): completed", counts.done[kind] ?? 0)
        }
        let failed = counts.failed.values.reduce(0, +)
        result.add("failed", "failed", failed)
        for (index, text) in counts.firstErrors.enumerated() { result.add("error_\(index + 1)", "error", text) }
        result.add("seconds", "elapsed", elapsed, unit: "s")
        result.add("per_s", "connections/s", Double(total) / elapsed)
        return result
    }

    /// One connection; returns what went wrong, or `nil`.
    static func one(
        index: Int, kind: ChurnKind, target: BenchTarget, env: BenchEnvironment, timeout: TimeAmount
    ) async -> String? {
        let connector = env.connector
        if kind == .dropBeforeLogin {
            // TLS: every other one is a ClientHello cut short (the server waits inside OpenSSL's record
            // layer), the rest are real handshakes dropped at the server's first flight. Plaintext: dropped at
            // the greeting, before a username.
            var generator = SystemRandomNumberGenerator()
            let truncated = target.tls != nil && index % 40 < 20
            let outcome = await connector.probe(
                index: index, target: target, tls: truncated ? nil : target.tls,
                send: truncated ? ProbeBytes.truncatedClientHello(using: &generator) : [],
                closeOnFirstRead: !truncated, timeout: truncated ? .milliseconds(20) : timeout)
            guard outcome.connected else { return "could not connect" }
            if !truncated, !outcome.closedByProbe { return "the server sent nothing before closing" }
            return nil
        }
        let name = "\(env.namePrefix)c\(index)"
        let connection: ScriptedConnection
        do {
            connection = try await connector.connectScripted(index: index, name: name, target: target).get()
        } catch {
            return "connect: \(error)"
        }
        do {
            guard await ProbeTimer.wait(for: connection.loggedIn, on: connection.channel.eventLoop, timeout: timeout)
            else {
                await connection.close()
                return "no welcome within the timeout"
            }
            try await connection.send(["churn \(index) says hello", "churn \(index) says more"])
            try await ping(connection, timeout: timeout)
            switch kind {
            case .dropBeforeLogin:
                break
            case .quit:
                guard await connection.quit("churn", timeout: timeout) else {
                    return "server did not close after /quit"
                }
            case .close:
                await connection.close()
            case .reset:
                await connection.reset()
            case .roomVisit:
                try await connection.send(["/join #churn-\(index % 7)", "churn \(index) visiting"])
                try await ping(connection, timeout: timeout)
                try await connection.send(["/leave"])
                guard await connection.quit("visited", timeout: timeout) else {
                    return "server did not close after /quit"
                }
            }
            let report = try? await connection.report()
            if let report, report.errorCount > 0 { return "error lines: \(report.errors.joined(separator: " | "))" }
            if let report, report.refusals > 0 { return "\(report.refusals) lines refused by the rate limit" }
            return nil
        } catch {
            await connection.close()
            return "\(error)"
        }
    }

    private static func ping(_ connection: ScriptedConnection, timeout: TimeAmount) async throws {
        let pong = connection.onLoop { $0.ping() }
        guard await ProbeTimer.wait(for: pong, on: connection.channel.eventLoop, timeout: timeout) else {
            throw BenchError.timedOut("pong")
        }
    }
}

extension BenchEnvironment {
    /// The plaintext and the TLS target, whichever of them `--tls` made the main one. Scenarios that mix
    /// transports need both ports and a single server.
    func bothTransports() throws(BenchError) -> (plaintext: BenchTarget, tls: BenchTarget) {
        guard !isMultiTarget, let alternate = alternateTarget else {
            throw .invalidOption("this scenario needs --port and --tls-port of one server (no --targets)")
        }
        return target.tls == nil ? (target, alternate) : (alternate, target)
    }
}
