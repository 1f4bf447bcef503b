import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import SecureChat

/// Notifications are untrusted input (issue 23, point 5): any role that can connect to the cluster's database
/// can `NOTIFY` on its channel. A role with only `CONNECT` sends every kind of forged payload; the nodes stay
/// up, and no user sees anything, is kicked, or finds a room stopped.
@Suite(
    "Cluster: forged notifications",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterForgedNotificationTests {
    static var logger: Logger {
        var logger = Logger(label: "forged-notification-test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` on a connection to `postgres` as `user` (trust authentication: no password).
    static func withConnection<T: Sendable>(
        to postgres: TestPostgres, as user: String, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: .init(
                host: "127.0.0.1", port: postgres.port, username: user, password: nil, database: postgres.database,
                tls: .disable),
            id: 90, logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Every kind of payload, in every format a node has ever sent and then some: numbers that overflow,
    /// lines without a newline, control characters, kicks, DMs, node-down and presence for real members.
    static func forgeries(alice: String, bob: String, node1Incarnation: Int64) -> [String] {
        let escape = "\\u001b[2J\\u001b]0;pwned\\u0007"
        return [
            // The lag computation and the time of day, with the extremes of 64 bits.
            ##"{"k":"e","n":"node2","ms":-9223372036854775808,"r":["#lobby"]}"##,
            ##"{"k":"e","n":"node2","ms":9223372036854775807,"e":[["#lobby",1,0,"x"]]}"##,
            ##"{"k":"e","n":"node2","ms":-9223372036854775808,"e":[["#lobby",9223372036854775807,0,"forged max"]]}"##,
            ##"{"k":"e","n":"node2","ms":1e30,"r":["#lobby"]}"##,
            // A line without a newline, a line with control characters, a sequence jump that would stop the room.
            ##"{"k":"e","n":"node2","ms":0,"e":[["#lobby",3,0,"forged without newline"]]}"##,
            ##"{"k":"e","n":"node2","ms":0,"e":[["#lobby",4,0,"forged \##(escape)\n"]]}"##,
            ##"{"k":"e","n":"node2","ms":0,"e":[["#lobby",1000000,0,null]]}"##,
            ##"{"k":"e","n":"node2","ms":0,"e":[["#lobby",-9223372036854775808,-1,"forged min"]]}"##,
            ##"{"k":"e","n":"node2","r":["#lobby","not a room","#a"]}"##,
            ##"{"k":"e","n":"node2","r":["#lobby"],"s":[9223372036854775807]}"##,
            ##"{"k":"e","n":"node2","r":["#lobby"],"s":[-9223372036854775808]}"##,
            // DMs and kicks, old and new formats.
            ##"{"k":"m","n":"node1","u":"\##(alice)","x":"[dm] bob: forged dm\n"}"##,
            ##"{"k":"m","n":"node1","u":"\##(alice)","x":"[dm] bob: forged \##(escape)"}"##,
            ##"{"k":"m","n":"node1"}"##,
            ##"{"k":"x","n":"node1","u":"\##(alice)","a":"kicked","b":"mallory","x":"forged kick"}"##,
            ##"{"k":"x","n":"node2","u":"\##(bob)","a":"banned","b":"mallory"}"##,
            // Node down, for a real node with its real incarnation, and for this one.
            ##"{"k":"d","n":"node1","i":\##(node1Incarnation)}"##,
            ##"{"k":"d","n":"node2","i":1}"##,
            // Presence: a fake operator with the oldest login there is, a real member moved and gone.
            ##"{"k":"p","o":"in","u":"mallory","d":"mallory","n":"node9","r":"#lobby","l":-9223372036854775808,"t":"plaintext","a":"10.0.0.1","c":-9223372036854775808}"##,
            ##"{"k":"p","o":"mv","u":"\##(bob)","n":"node2","r":"#forged"}"##,
            ##"{"k":"p","o":"out","u":"\##(bob)","n":"node2"}"##,
            ##"{"k":"p","u":"mallory","n":"node9"}"##,
            // Bans reloaded (harmless), garbage, deep nesting, a payload at the size limit.
            ##"{"k":"b"}"##,
            "not json at all \u{1}\u{7f}",
            String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000),
            ##"{"k":"m","n":"node1","u":"\##(alice)","x":""## + String(repeating: "A", count: 7900) + ##""}"##,
        ]
    }

    @Test("a role with only CONNECT forges every kind of notification: the nodes stay up and nobody sees anything")
    func forgedNotifications() async throws {
        try await withTestCluster { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            alice.send("before")
            try await bob.readUntil("alice's line") { $0 == "alice: before" }
            _ = try await alice.sync()
            _ = try await bob.sync()

            let node1Incarnation = try await Self.withConnection(to: postgres, as: postgres.user) { connection in
                try await connection.query("CREATE ROLE intruder LOGIN", logger: Self.logger)
                var incarnation: Int64 = 0
                for try await value in try await connection.query(
                    "SELECT incarnation FROM securechat_nodes WHERE name = 'node1'", logger: Self.logger
                ).decode(Int64.self) {
                    incarnation = value
                }
                return incarnation
            }
            try await Self.withConnection(to: postgres, as: "intruder") { connection in
                // Only CONNECT (PUBLIC's default): the tables and what the functions do are out of reach.
                // (A function's error comes with its rows, so they are read.)
                await #expect(throws: PSQLError.self) {
                    for try await _ in try await connection.query(
                        "SELECT count(*) FROM securechat_events", logger: Self.logger)
                    {}
                }
                await #expect(throws: PSQLError.self) {
                    for try await _ in try await connection.query(
                        "SELECT * FROM securechat_retire('node1', \(node1Incarnation))", logger: Self.logger)
                    {}
                }
                let payloads = Self.forgeries(
                    alice: Username.key(for: "alice"), bob: Username.key(for: "bob"),
                    node1Incarnation: node1Incarnation)
                for payload in payloads {
                    try await connection.query("SELECT pg_notify('securechat', \(payload))", logger: Self.logger)
                }
            }

            // Notifications arrive in commit order: once each node has a line committed after the forgeries,
            // it has handled every forgery. Nothing else reached either user.
            bob.send("after")
            let aliceSaw = try await alice.collectUntil { $0 == "bob: after" }
            #expect(withoutLinkNotices(aliceSaw) == ["bob: after"])
            alice.send("again")
            let bobSaw = try await bob.collectUntil { $0 == "alice: again" }
            #expect(withoutLinkNotices(bobSaw) == ["alice: again"])
            #expect(try await alice.sync().isEmpty)
            #expect(try await bob.sync().isEmpty)

            // Presence and the operator are as they were, on both nodes.
            for client in [alice, bob] {
                client.send("/users all")
                let users = try await client.readUntil("/users all") { $0.hasPrefix("* ") && $0.contains("online") }
                #expect(users.hasPrefix("* 2 users online: alice #lobby [op] [plaintext], bob #lobby"))
            }
            // A newcomer's history holds the real lines only, each on its own line.
            let dave = try await nodes[1].login("dave")
            let history = try await dave.sync()
            #expect(!history.contains { $0.contains("forged") || $0.contains("\u{1b}") })
            #expect(history.contains { $0.hasSuffix("alice: before") })
            #expect(history.contains { $0.hasSuffix("alice: again") })
            for client in [alice, bob, dave] { await client.close() }
        }
    }

    @Test("a flood of 20,000 forged notifications: chat and presence go on, and the rings merged are counted")
    func forgedFlood() async throws {
        try await withTestCluster { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            _ = try await Self.withConnection(to: postgres, as: postgres.user) { connection in
                try await connection.query("CREATE ROLE intruder LOGIN", logger: Self.logger)
            }
            _ = try await Self.withConnection(to: postgres, as: "intruder") { connection in
                // One statement, one commit: all 20,000 arrive at once, each naming another presence row.
                try await connection.query(
                    """
                    SELECT pg_notify('securechat', json_build_object('k', 'p', 'u', 'mallory' || i, 'n', 'node9')::text)
                    FROM generate_series(1, 20000) AS i
                    """, logger: Self.logger)
            }
            bob.send("after the flood")
            try await alice.readUntil("bob's line") { $0 == "bob: after the flood" }
            alice.send("/users all")
            let users = try await alice.readUntil("/users all") { $0.hasPrefix("* ") && $0.contains("online") }
            #expect(users.hasPrefix("* 2 users online: alice #lobby [op] [plaintext], bob #lobby"))
            // Rings that found one like them waiting, or a catch-up, are merged rather than kept, and counted. How
            // many depends on how fast each node's listener took them (a node that kept up merged none): the bound
            // itself is `DoorbellBacklogTests`'; here, that the count is exported, and what it was.
            for node in nodes {
                var text: [UInt8] = []
                node.server.server.metrics.registry.emit(into: &text)
                let line = String(decoding: text, as: UTF8.self).split(separator: "\n")
                    .first { $0.hasPrefix("securechat_cluster_notifications_coalesced_total ") }
                let merged = line.flatMap { Double($0.split(separator: " ").last ?? "") }
                #expect(merged != nil, "\(node.name): no counter")
                print("forged flood: \(node.name) merged \(Int(merged ?? 0)) of 20,000 rings")
            }
        }
    }
}
