import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// A node that stops while the database does not answer: it must still stop, and every sender must still be
/// answered. Its sessions end first (each waits for its last lines' commits), so the link has to outlive them.
@Suite(
    "Cluster: stopping a node whose lines wait for a frozen database",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterShutdownTests {
    @Test(
        "a node cancelled while a sender's lines wait for a frozen database still stops: its sessions end, then it retires"
    )
    func stopWithLinesInFlight() async throws {
        try await withTestCluster(nodes: 1) { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            try postgres.freeze()
            do {
                // The first line's commit hangs on the frozen database; the others queue behind it. The node is
                // stopped before its heartbeat can miss its deadline (which would refuse the queued lines).
                alice.send("line 1")
                try await Task.sleep(for: .milliseconds(100))
                for number in 2...5 { alice.send("line \(number)") }
                // A command waits until the lines before it are committed or refused.
                alice.send("/users")
                try await Task.sleep(for: .milliseconds(100))
                let limit = Duration.seconds(60 * SanitizedBuild.timeFactor)
                let stopped = await finishes(within: limit) { await nodes[0].stop() }
                try postgres.thaw()
                #expect(stopped, "the node was still stopping \(limit) after it was cancelled")
            } catch {
                try? postgres.thaw()
                throw error
            }
        }
    }

    /// Whether `body` returns within `limit`; it is left running when it does not.
    private func finishes(within limit: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        let done = AsyncStream<Bool>.makeStream()
        let work = Task {
            await body()
            done.continuation.yield(true)
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            done.continuation.yield(false)
        }
        defer { timer.cancel() }
        var iterator = done.stream.makeAsyncIterator()
        let finished = await iterator.next() ?? false
        if finished { await work.value }
        return finished
    }
}
