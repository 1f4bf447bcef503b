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
    /// queued for these clients before the pings has arrived.
    public static func barrier(_ connections: [BenchConnection]) async throws {
        let futures = connections.map { $0.ping() }
        for future in futures { try await future.get() }
    }

    /// Closes every connection (the closes are expected, not failures).
    public static func closeAll(_ connections: [BenchConnection]) async {
        let futures = connections.map { $0.close() }
        for future in futures { _ = try? await future.get() }
    }
}
