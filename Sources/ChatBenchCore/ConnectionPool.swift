import NIOConcurrencyHelpers
import NIOCore

/// Opens and logs in many clients with a bounded number in flight (the server's accept backlog is finite;
/// a SYN flood only adds retransmission delays to the login time).
public enum ConnectionPool {
    /// Connects clients `0..<count`, at most `concurrency` not yet logged in at once; returns them in index
    /// order once all are logged in. Fails on the first client that cannot connect or log in.
    public static func connectAll(
        count: Int,
        concurrency: Int,
        progress: ProgressReporter? = nil,
        connect: @escaping @Sendable (Int) -> EventLoopFuture<BenchConnection>
    ) async throws -> [BenchConnection] {
        var connections = [BenchConnection?](repeating: nil, count: count)
        try await withThrowingTaskGroup(of: (Int, BenchConnection).self) { group in
            var next = 0
            var done = 0
            func start(_ index: Int) {
                group.addTask {
                    let connection = try await connect(index).get()
                    do {
                        try await connection.loggedIn.get()
                    } catch {
                        _ = try? await connection.close().get()
                        throw error
                    }
                    return (index, connection)
                }
            }
            while next < min(concurrency, count) {
                start(next)
                next += 1
            }
            while let (index, connection) = try await group.next() {
                connections[index] = connection
                done += 1
                progress?.update("logged in \(done)/\(count)")
                if next < count {
                    start(next)
                    next += 1
                }
            }
        }
        return connections.map { $0! }
    }

    /// Sends `/ping` on every connection and waits for every `* pong`: afterwards, everything the server
    /// queued for these clients before the pings has arrived. Throws `timedOut` when no pong has come for
    /// `stallTimeout` while some are missing: a server that throttles the benchmark's lines (all from one address)
    /// refuses a ping instead of answering it, and the run would otherwise wait for ever.
    public static func barrier(_ connections: [BenchConnection], stallTimeout: TimeAmount) async throws {
        let futures = connections.map { $0.ping() }
        let answered = NIOLockedValueBox(0)
        for future in futures { future.whenComplete { _ in answered.withLockedValue { $0 += 1 } } }
        var last = 0
        var lastChange = NIODeadline.now()
        while case let count = answered.withLockedValue({ $0 }), count < futures.count {
            if count != last {
                last = count
                lastChange = .now()
            } else if NIODeadline.now() - lastChange > stallTimeout {
                throw BenchError.timedOut(
                    "\(futures.count - count) of \(futures.count) clients got no pong for "
                        + "\(stallTimeout.nanoseconds / 1_000_000_000) s (does the server throttle the benchmark's "
                        + "address? bench/run.sh starts it with --address-rate 0)")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        for future in futures { try await future.get() }
    }

    /// Closes every connection (the closes are expected, not failures).
    public static func closeAll(_ connections: [BenchConnection]) async {
        let futures = connections.map { $0.close() }
        for future in futures { _ = try? await future.get() }
    }
}
