import Foundation
import NIOCore
import PostgresNIO
import Testing

@testable import SecureChat

/// Lines read from the table after a listener reconnect (catch-up) carry their sender, so the sender's own
/// connection never gets its line back (issue 23, point 6), while everyone else gets it once.
@Suite(
    "Cluster: catch-up never echoes a line to its sender",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterCatchUpEchoTests {
    @Test("a line committed while the listeners were cut is caught up by every connection but its sender's")
    func catchUpSkipsTheSender() async throws {
        try await withTestCluster { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let carol = try await nodes[0].login("carol")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            try await carol.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            let aliceID = try #require(await nodes[0].hub.idsByName[Username.key(for: "alice")])

            // alice's line as node1 commits it (stored with its sender), but with no notification, and every
            // node's connections cut: only the listeners' catch-up can find it.
            try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
                let statements: [PostgresQuery] = [
                    "BEGIN",
                    "UPDATE securechat_rooms SET last_sequence = last_sequence + 1 WHERE name = '#lobby'",
                    """
                    INSERT INTO securechat_events (room, sequence, line, sender_node, sender_connection)
                    SELECT '#lobby', last_sequence, convert_to('alice: caught up' || chr(10), 'UTF8'), 'node1',
                        \(Int64(bitPattern: aliceID.value))
                    FROM securechat_rooms WHERE name = '#lobby'
                    """,
                    "COMMIT",
                    // Every node connection (a listener's last query is whatever it last read, not its LISTEN).
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE backend_type = 'client backend' AND datname = current_database()
                        AND pid <> pg_backend_pid()
                    """,
                ]
                for statement in statements {
                    for try await _ in try await connection.query(
                        statement, logger: ClusterForgedNotificationTests.logger)
                    {}
                }
            }

            try await carol.readUntil("the caught-up line") { $0 == "alice: caught up" }
            try await bob.readUntil("the caught-up line") { $0 == "alice: caught up" }
            // Once carol, on the same node, has it and chat has resumed there, alice has whatever she would get.
            try await carol.readUntil("chat resumed") { $0 == "* Chat resumed." }
            let aliceSaw = try await alice.collectUntil { $0 == "* Chat resumed." }
            #expect(!aliceSaw.contains("alice: caught up"), "\(aliceSaw)")
            alice.send("after")
            try await bob.readUntil("alice's next line") { $0 == "alice: after" }
            #expect(try await alice.sync().isEmpty)
            for client in [alice, carol, bob] { await client.close() }
        }
    }
}
