import Foundation
import NIOCore
import PostgresNIO
import Testing

@testable import SecureChat

/// Room lines are stored as structured events (issue 23, point 6): read from the table after a listener
/// reconnect (catch-up) they carry their sender, so the sender's own connection never gets its line back,
/// while everyone else gets it once; and each node validates, sanitises and renders what it reads.
@Suite(
    "Cluster: structured events, rendered by each node, never echoed to their sender",
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
                    INSERT INTO securechat_events (room, sequence, line, kind, sender_name, sender_node,
                            sender_connection, body)
                        SELECT '#lobby', last_sequence, ''::bytea, 'chat', 'alice', 'node1',
                            \(Int64(bitPattern: aliceID.value)), 'caught up'
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

    @Test("events written into the table are validated, sanitised and rendered by each node; bad ones show nowhere")
    func storedEventsAreRendered() async throws {
        try await withTestCluster { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            // Whatever bob was shown so far (history, alice's arrival) is read first.
            alice.send("ready")
            try await bob.readUntil("alice's first line") { $0 == "alice: ready" }
            // As a node with the cluster's privileges but a bug would write them: then the doorbell.
            let events: [(kind: String, name: String, body: String)] = [
                ("chat", "alice", "hi\u{1b}[2J there"),
                ("chat", "not a name!", "spoofed"),
                ("notice", "", "two\nlines"),
                ("evil", "alice", "unknown kind"),
                ("chat", "alice", "\u{7}"),
            ]
            try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
                for event in events {
                    let statements: [PostgresQuery] = [
                        "UPDATE securechat_rooms SET last_sequence = last_sequence + 1 WHERE name = '#lobby'",
                        """
                        INSERT INTO securechat_events (room, sequence, line, kind, sender_name, sender_node, body)
                        SELECT '#lobby', last_sequence, ''::bytea, \(event.kind), \(event.name), 'node9',
                            \(event.body)
                        FROM securechat_rooms WHERE name = '#lobby'
                        """,
                    ]
                    for statement in statements {
                        for try await _ in try await connection.query(
                            statement, logger: ClusterForgedNotificationTests.logger)
                        {}
                    }
                }
                for try await _ in try await connection.query(
                    ##"SELECT pg_notify('securechat', '{"k":"e","n":"node9","r":["#lobby"]}')"##,
                    logger: ClusterForgedNotificationTests.logger)
                {}
            }
            // Each node handles notifications in commit order: a line committed after the doorbell comes after
            // whatever the doorbell brought.
            alice.send("after")
            let bobSaw = try await bob.collectUntil { $0 == "alice: after" }
            #expect(withoutLinkNotices(bobSaw) == ["alice: hi[2J there", "* twolines", "alice: after"])
            bob.send("done")
            let aliceSaw = try await alice.collectUntil { $0 == "bob: done" }
            #expect(withoutLinkNotices(aliceSaw) == ["alice: hi[2J there", "* twolines", "bob: done"])
            for client in [alice, bob] { await client.close() }
        }
    }
}
