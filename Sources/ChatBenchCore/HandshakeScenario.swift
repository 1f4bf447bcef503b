import NIOConcurrencyHelpers
import NIOCore
import SecureChat

/// `handshakes`: new connections per second at a concurrency C for D seconds (full TLS handshakes, or
/// resumed ones with `--resume`), and the server's CPU time per connection from `/proc/PID/stat`, which
/// stays meaningful when the load tool is the bottleneck.
public struct HandshakeScenario: Sendable {
    public var concurrency: Int
    public var seconds: Double
    public var resume: Bool

    public init(concurrency: Int, seconds: Double, resume: Bool) throws(BenchError) {
        guard concurrency >= 1, seconds > 0 else {
            throw .invalidOption("handshakes needs concurrency >= 1 and a duration > 0")
        }
        self.concurrency = concurrency
        self.seconds = seconds
        self.resume = resume
    }

    public func run(_ env: BenchEnvironment) async throws -> BenchResult {
        let target = env.target
        let connector = env.connector
        let resume = self.resume && target.tls != nil
        if resume, env.isMultiTarget {
            // A session ticket is only good at the server that issued it.
            throw BenchError.invalidOption("handshakes --resume takes one target")
        }
        let counter = NIOLockedValueBox((done: 0, resumed: 0, failed: 0, firstError: String?.none))
        let nextIndex = NIOLockedValueBox(0)

        // One full handshake first when resuming, so every worker starts with a session to offer.
        var seed: TLSSession?
        if resume {
            let (outcome, channel) = try await connector.probe(index: 0, target: target, resuming: nil).get()
            try? await channel.closeFuture.get()
            seed = outcome.session
        }
        let initialSession = seed

        env.progress.say("\(concurrency) concurrent \(resume ? "resumed " : "")connections for \(seconds) s")
        let before = env.sampleServer()
        let clientBefore = env.sampleClient()
        let start = NIODeadline.now()
        let deadline = start + .nanoseconds(Int64(seconds * 1e9))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var session = initialSession
                    while NIODeadline.now() < deadline {
                        let index = nextIndex.withLockedValue {
                            $0 += 1
                            return $0
                        }
                        do {
                            let (outcome, channel) = try await connector.probe(
                                index: index, target: env.target(forClient: index), resuming: resume ? session : nil
                            ).get()
                            if resume, let fresh = outcome.session { session = fresh }
                            try? await channel.closeFuture.get()
                            counter.withLockedValue {
                                $0.done += 1
                                if outcome.resumed { $0.resumed += 1 }
                            }
                        } catch {
                            counter.withLockedValue {
                                $0.failed += 1
                                if $0.firstError == nil { $0.firstError = "\(error)" }
                            }
                        }
                        let done = counter.withLockedValue { $0.done }
                        env.progress.update("\(done) connections")
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        // The server finishes its side of the last closes just after ours; let its CPU counters catch up.
        try await Task.sleep(nanoseconds: 200_000_000)
        let after = env.sampleServer()
        let clientAfter = env.sampleClient()
        let totals = counter.withLockedValue { $0 }

        var result = BenchResult(
            scenario: resume ? "handshakes-resumed" : "handshakes", transport: env.transport
        )
        result.add("concurrency", "concurrency", concurrency)
        result.add("duration_s", "duration", elapsed, unit: "s")
        result.add("connections", "connections completed", totals.done)
        result.add("resumed", "of them resumed", totals.resumed)
        result.add("failed", "failed", totals.failed)
        if let firstError = totals.firstError { result.add("first_error", "first error", firstError) }
        result.add("per_s", target.tls == nil ? "connections/s" : "handshakes/s", Double(totals.done) / elapsed)
        result.addServerCPU(before: before, after: after, elapsed: elapsed)
        result.addClientCPU(before: clientBefore, after: clientAfter, elapsed: elapsed)
        if let before, let after, totals.done > 0 {
            let ms = (after.cpuSeconds - before.cpuSeconds) * 1000 / Double(totals.done)
            result.add("server_cpu_ms_per_connection", "server CPU per connection", ms, unit: "ms")
        }
        return result
    }
}
