import Logging
import NIOCore
import PostgresNIO
import Testing

@testable import SecureChat

/// DMs are exactly-once or an error (issue 23, point 7), also while the recipient's node is reconnecting its
/// listener: a DM stored while nobody listened is taken at the listener's catch-up.
@Suite(
    "Cluster: DMs while the recipient's listener reconnects",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterRelayReconnectTests {
    @Test(
        "DMs sent while bob's node reconnects its listener: each confirmed one arrives once, in order; no refused one arrives"
    )
    func dmsDuringListenerReconnect() async throws {
        try await withTestCluster { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            var confirmed: [String] = []
            var refused: [String] = []
            var uncertain: [String] = []
            for round in 1...3 {
                // node2's listener is cut by the database; the DMs that follow at once land while it reconnects.
                try await Self.terminateListener(of: "node2", on: postgres)
                for number in 1...5 {
                    let text = "dm \(round).\(number)"
                    alice.send("/msg bob \(text)")
                    let answer = try await alice.readUntil("the DM's answer") {
                        $0.hasPrefix("[dm -> bob]") || ($0.hasPrefix("! ") && !isLinkNotice($0))
                    }
                    if answer == "[dm -> bob] \(text)" {
                        confirmed.append(text)
                    } else if answer.contains("it may not have been sent") {
                        uncertain.append(text)  // the link broke mid-commit: it may arrive or not
                    } else {
                        refused.append(text)
                    }
                }
            }
            #expect(!confirmed.isEmpty)
            // A last DM after everything: once it is in, every earlier one that will ever come has come.
            alice.send("/msg bob last")
            try await alice.readUntil("the last DM's confirmation") { $0 == "[dm -> bob] last" }
            // Generous, as above.
            let bobSaw = try await bob.collect(within: .seconds(90)) { $0 == "[dm] alice: last" }
            let received = bobSaw.filter { $0.hasPrefix("[dm] alice: dm ") }.map { String($0.dropFirst(12)) }
            #expect(received.filter { !uncertain.contains($0) } == confirmed, "refused: \(refused)")
        }
    }

    /// Ends `node`'s LISTEN connection from the database's side (`pg_terminate_backend`), found by its name,
    /// once it has one (after a previous cut, the listener reconnects within its backoff).
    static func terminateListener(of node: String, on postgres: TestPostgres) async throws {
        // Generous: on a loaded machine a node under repeated cuts may also pause and reconnect everything.
        try await eventually("\(node)'s listener to be connected, and cut", failsafe: .seconds(90)) {
            try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
                var ended = 0
                for try await _ in try await connection.query(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = \("securechat \(node) listener")
                    """, logger: ClusterForgedNotificationTests.logger)
                {
                    ended += 1
                }
                return ended == 1
            }
        }
    }
}
