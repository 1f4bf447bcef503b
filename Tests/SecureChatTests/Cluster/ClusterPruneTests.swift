import Logging
import NIOCore
import PostgresNIO
import Testing

@testable import SecureChat

/// Pruning: in batches, by one node at a time, down to the history length the cluster agreed on.
@Suite(
    "Cluster: pruning old history",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(3))
)
struct ClusterPruneTests {
    static let oldEvents = 2500

    @Test("more than a batch of old events is pruned to the history the first node stored, not a later node's")
    func prunesToClusterHistory() async throws {
        try await TestPostgres.with { postgres in
            let first = try await TestClusterNode.start("first", on: postgres) { $0.historyLines = 10 }
            do {
                let second = try await TestClusterNode.start("second", on: postgres) { $0.historyLines = 40 }
                do {
                    try await Self.insertOldEvents(on: postgres)
                    let link = try #require(await second.hub.cluster as? ClusterLink)
                    #expect(Self.oldEvents > ClusterLink.pruneBatch)
                    #expect(try await link.prune() == .pruned(Self.oldEvents - 10))
                    let left = try await Self.remaining(on: postgres)
                    #expect(left == Array((Self.oldEvents - 9)...Self.oldEvents))
                } catch {
                    await second.stop()
                    throw error
                }
                await second.stop()
            } catch {
                await first.stop()
                throw error
            }
            await first.stop()
        }
    }

    @Test("a node does not prune while another holds the pruning lock, and prunes once it is free")
    func skipsWhileLockHeld() async throws {
        try await withTestCluster(nodes: 1, configure: { $0.historyLines = 10 }) { postgres, nodes in
            try await Self.insertOldEvents(on: postgres)
            let link = try #require(await nodes[0].hub.cluster as? ClusterLink)
            try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { holder in
                try await holder.query("SELECT pg_advisory_lock(\(ClusterLink.pruneLock))", logger: Self.logger)
                #expect(try await link.prune() == .skipped)
                #expect(try await Self.remaining(on: postgres).count == Self.oldEvents)
                try await holder.query("SELECT pg_advisory_unlock(\(ClusterLink.pruneLock))", logger: Self.logger)
            }
            #expect(try await link.prune() == .pruned(Self.oldEvents - 10))
            #expect(try await Self.remaining(on: postgres).count == 10)
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "prune-test")
        logger.logLevel = .critical
        return logger
    }()

    /// A room with `oldEvents` events said a day ago (beyond any catch-up window).
    static func insertOldEvents(on postgres: TestPostgres) async throws {
        try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
            try await connection.query(
                """
                INSERT INTO securechat_rooms (name, last_sequence) VALUES ('#old', \(oldEvents))
                ON CONFLICT (name) DO UPDATE SET last_sequence = excluded.last_sequence
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO securechat_events (room, sequence, line, said_at)
                SELECT '#old', s, ''::bytea, now() - interval '1 day' FROM generate_series(1, \(oldEvents)) AS s
                """, logger: logger)
        }
    }

    /// The sequences left in the room, in order.
    static func remaining(on postgres: TestPostgres) async throws -> [Int] {
        try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
            var sequences: [Int] = []
            let rows = try await connection.query(
                "SELECT sequence FROM securechat_events WHERE room = '#old' ORDER BY sequence", logger: logger)
            for try await sequence in rows.decode(Int.self) { sequences.append(sequence) }
            return sequences
        }
    }
}
