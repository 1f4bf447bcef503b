import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import SecureChat

/// Fencing: what a node commits carries its incarnation, and the database refuses it once that incarnation
/// was declared down, even before the node itself has noticed.
@Suite(
    "Cluster: writes fenced by the node's incarnation",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(3))
)
struct ClusterFencingTests {
    @Test("a line sent by a node already declared down (which has not noticed yet) is refused, never delivered")
    func lineFromDeclaredDownNode() async throws {
        // A long node timeout: the heartbeat (every fifth of it) does not notice the verdict before the line.
        try await withTestCluster(nodeTimeout: .seconds(60)) { postgres, nodes in
            let bob = try await nodes[1].login("bob")
            let alice = try await nodes[0].login("alice")
            try await bob.readUntil("alice's arrival") { $0 == "* alice joined #lobby" }

            // Declared down behind its back, as a sweep by another node would (without the notification).
            var logger = Logger(label: "fencing-test")
            logger.logLevel = .critical
            let configuration = try ClusterConfiguration(url: postgres.url, nodeName: "test").connectionConfiguration()
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 99,
                logger: logger)
            do {
                try await connection.query(
                    "UPDATE securechat_nodes SET declared_dead = true WHERE name = 'node1'", logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()

            alice.send("after the verdict")
            let replies = try await alice.readToEnd()
            let refused = replies.filter { $0.hasSuffix("What you sent was not delivered.") }
            #expect(refused.count == 1, "\(replies)")
            bob.send("/ping")
            let bobSaw = try await bob.collectUntil { $0 == "* pong" }
            #expect(!bobSaw.contains("alice: after the verdict"), "\(bobSaw)")
        }
    }

    @Test("a node that stops cleanly still announces its users' departure (its retirement is not a fence)")
    func cleanStopAnnounces() async throws {
        try await TestPostgres.with { postgres in
            let staying = try await TestClusterNode.start("staying", on: postgres, nodeTimeout: .seconds(6))
            do {
                let leaving = try await TestClusterNode.start("leaving", on: postgres, nodeTimeout: .seconds(6))
                let alice = try await staying.login("alice")
                _ = try await leaving.login("bob")
                try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
                // bob stays connected: the node closes him as it stops.
                await leaving.stop(closingClients: false)
                try await alice.readUntil("bob's departure") { $0 == "* bob left #lobby (server shutting down)" }
            } catch {
                await staying.stop()
                throw error
            }
            await staying.stop()
        }
    }
}
