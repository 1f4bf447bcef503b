import Logging
import NIOCore
import PostgresNIO
import Testing

@testable import SecureChat

/// Each node checks its own presence rows now and then: a row no member of it holds is removed.
@Suite(
    "Cluster: a node's periodic presence check",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(3))
)
struct ClusterPresenceCheckTests {
    @Test("a ghost presence row of a node (as an uncertain claim leaves) is removed, and the name becomes free")
    func ghostRemoved() async throws {
        try await withTestCluster(nodes: 2) { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let key = Username.key(for: "ghost")
            try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO securechat_presence (name_key, display_name, node, room)
                    VALUES (\(key), 'ghost', 'node1', '#lobby')
                    """, logger: ClusterPruneTests.logger)
            }
            // Heartbeats every 600 ms: a check every few seconds.
            try await eventually("the ghost row removed", failsafe: SanitizedBuild.scaled(.seconds(30))) {
                try await Self.presenceRows(key, on: postgres) == 0
            }
            _ = try await nodes[1].login("ghost")
            // Alice's own row is held by a member of node1: it stays.
            #expect(try await Self.presenceRows(Username.key(for: "alice"), on: postgres) == 1)
            alice.send("/ping")
            try await alice.readUntil("the pong") { $0 == "* pong" }
        }
    }

    static func presenceRows(_ key: String, on postgres: TestPostgres) async throws -> Int {
        try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
            var count = 0
            let rows = try await connection.query(
                "SELECT count(*)::bigint FROM securechat_presence WHERE name_key = \(key)",
                logger: ClusterPruneTests.logger)
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
    }
}
