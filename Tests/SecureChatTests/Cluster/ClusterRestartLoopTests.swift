import NIOCore
import PostgresNIO
import Testing

@testable import SecureChat

/// A database restarted again and again under two nodes: chat comes back after each restart, and no node is
/// left holding more than its fixed set of connections (listener, publisher, work, heartbeat, prune).
@Suite(
    "Cluster: the database restarted in a loop",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterRestartLoopTests {
    static let roles = ["heartbeat", "listener", "prune", "publisher", "work"]

    @Test("pg_ctl restart three times: chat resumes after each, and each node holds at most one backend per role")
    func restartLoop() async throws {
        try await withTestCluster { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            for restart in 1...3 {
                try await postgres.pause()
                try await postgres.resume()
                try await Self.lineGoesThrough("after restart \(restart)", from: alice, to: bob, sender: "alice")
                try await Self.lineGoesThrough("after restart \(restart)", from: bob, to: alice, sender: "bob")
                // Within a heartbeat the node beats again on a fresh connection, and its listener listens again;
                // the publisher, pruning and the work queue open theirs only when used (a node that a loaded machine
                // got declared down rejoins with a closed publisher until its next line). None ever holds two.
                var seen: [String: Int] = [:]
                try await eventually("every node's heartbeat and listener to be connected again") {
                    let backends = try await Self.backendsByName(postgres)
                    seen = backends
                    return ["node1", "node2"].allSatisfy { node in
                        ["heartbeat", "listener"].allSatisfy { backends["securechat \(node) \($0)"] == 1 }
                    }
                } lastSeen: {
                    "after restart \(restart), backends \(seen.sorted { $0.key < $1.key })"
                }
                let backends = try await Self.backendsByName(postgres)
                for node in ["node1", "node2"] {
                    for role in Self.roles {
                        let count = backends["securechat \(node) \(role)", default: 0]
                        #expect(count <= 1, "after restart \(restart): \(node) holds \(count) \(role) backends")
                    }
                }
                let strangers = backends.keys.filter { name in
                    !["node1", "node2"].contains { node in Self.roles.contains { name == "securechat \(node) \($0)" } }
                }
                #expect(strangers.isEmpty, "backends with no node's name: \(strangers)")
            }
        }
    }

    /// Sends lines from `sender` until one reaches `receiver` (the first ones after a restart may be refused
    /// while the link is paused).
    static func lineGoesThrough(
        _ tag: String, from sender: TestClient, to receiver: TestClient, sender name: String
    ) async throws {
        for attempt in 1...60 {
            let line = "\(tag) #\(attempt)"
            sender.send(line)
            let replies = try await sender.sync()
            if replies.contains(where: { $0.hasPrefix("! ") }) {
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            try await receiver.readUntil(tag) { $0 == "\(name): \(line)" }
            return
        }
        Issue.record("no line from \(name) went through \(tag)")
    }

    /// The client backends of this database by `application_name`, this query's own excepted.
    static func backendsByName(_ postgres: TestPostgres) async throws -> [String: Int] {
        try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
            var result: [String: Int] = [:]
            for try await (name, count) in try await connection.query(
                """
                SELECT application_name, count(*)::bigint FROM pg_stat_activity
                WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY application_name
                """,
                logger: ClusterForgedNotificationTests.logger
            ).decode((String, Int).self) {
                result[name] = count
            }
            return result
        }
    }
}
