import NIOCore
import PostgresNIO

/// What one pruning run did.
enum PruneOutcome: Equatable, Sendable {
    /// This node pruned: the number of events deleted.
    case pruned(Int)
    /// Another node was pruning (it held the lock): this node left it to that one.
    case skipped
}

/// Deleting history nobody can need any more: on its own connection, in bounded batches, by one node at a
/// time, keeping per room the cluster-wide history length.
extension ClusterLink {
    /// Most events one pruning statement deletes: each batch is a short transaction, never a long lock.
    static let pruneBatch = 1000
    /// The key of the advisory lock a pruning batch takes ("SCprune!" in ASCII); only its holder deletes.
    static let pruneLock: Int64 = 0x5343_7072_756E_6521
    /// The name of the cluster-wide history length in `securechat_settings`.
    static let historySetting = "history_lines"

    /// Prunes now and then, never in the heartbeat's or the work queue's way.
    func pruneLoop() async {
        let period = TimeAmount.nanoseconds(configuration.heartbeatInterval.nanoseconds * 50)
        while !Task.isCancelled {
            try? await Task.sleep(for: .nanoseconds(period.nanoseconds))
            if Task.isCancelled { return }
            guard isLinked else { continue }
            do {
                _ = try await prune()
                try await pruneAccounts()
            } catch {
                logger.debug("pruning failed", metadata: ["error": "\(ClusterError.reason(error))"])
            }
        }
    }

    /// Deletes, batch by batch until none is left, the events older than the cluster-wide history length of
    /// their room and than the catch-up window. Each batch takes the pruning lock for its own transaction
    /// (`pg_try_advisory_xact_lock`); when another node holds it, this node stops and leaves pruning to it.
    func prune() async throws -> PruneOutcome {
        let window = Int64(configuration.catchUpWindow.nanoseconds / 1_000_000_000)
        let ownHistory = Int64(historyLines)
        var deleted = 0
        while !Task.isCancelled {
            let (held, count) = try await pruneConnection.run(timeout: .seconds(30)) { [logger] connection in
                let rows = try await connection.query(
                    """
                    WITH lock AS (SELECT pg_try_advisory_xact_lock(\(Self.pruneLock)) AS held),
                    history AS (
                        SELECT coalesce(
                            (SELECT value FROM securechat_settings WHERE name = \(Self.historySetting)),
                            \(ownHistory)) AS lines),
                    doomed AS (
                        SELECT e.room, e.sequence FROM securechat_events e
                        JOIN securechat_rooms r ON e.room = r.name
                        WHERE (SELECT held FROM lock)
                            AND e.sequence <= r.last_sequence - (SELECT lines FROM history)
                            AND e.said_at < now() - \(window) * interval '1 second'
                        LIMIT \(Self.pruneBatch)),
                    gone AS (
                        DELETE FROM securechat_events e USING doomed d
                        WHERE e.room = d.room AND e.sequence = d.sequence RETURNING 1)
                    SELECT (SELECT held FROM lock), (SELECT count(*) FROM gone)::bigint
                    """, logger: logger)
                var result = (false, 0)
                for try await row in rows.decode((Bool, Int).self) { result = row }
                return result
            }
            guard held else { return deleted == 0 ? .skipped : .pruned(deleted) }
            deleted += count
            if count < Self.pruneBatch { break }
        }
        if deleted > 0 { logger.debug("pruned old history", metadata: ["events": "\(deleted)"]) }
        return .pruned(deleted)
    }

    /// Deletes password-attempt buckets untouched for an hour (full again by then: the slowest default refills
    /// in 5 minutes, and a bucket that does not exist is full), and accounts removed more than a day ago whose
    /// hold has ended. The highest revision deleted is recorded, so that a node whose copy is older than it
    /// reads all accounts afresh instead of missing a removal (``readAccountChanges(on:)``).
    func pruneAccounts() async throws {
        _ = try await pruneConnection.run(timeout: .seconds(30)) { [logger] connection in
            try await connection.query(
                "DELETE FROM securechat_login_buckets WHERE at < now() - interval '1 hour'", logger: logger)
            try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM securechat_accounts
                    WHERE account IS NULL AND coalesce(held_until, 0) < extract(epoch FROM now())
                        AND changed_at < now() - interval '1 day'
                    RETURNING revision),
                highest AS (SELECT max(revision) AS revision FROM gone)
                INSERT INTO securechat_settings (name, value)
                SELECT \(Self.accountsPrunedSetting), revision FROM highest WHERE revision IS NOT NULL
                ON CONFLICT (name) DO UPDATE SET value = greatest(securechat_settings.value, excluded.value)
                """, logger: logger)
        }
    }

    /// The cluster's history length: the first node to register stores its own; a node started with another
    /// `--history` is told, and prunes by the stored one.
    func agreeOnHistoryLength() async throws {
        let own = Int64(historyLines)
        let stored = try await workConnection.run { [logger] connection in
            let rows = try await connection.query(
                """
                WITH stored AS (
                    INSERT INTO securechat_settings (name, value) VALUES (\(Self.historySetting), \(own))
                    ON CONFLICT (name) DO NOTHING RETURNING value)
                SELECT coalesce(
                    (SELECT value FROM stored),
                    (SELECT value FROM securechat_settings WHERE name = \(Self.historySetting)))
                """, logger: logger)
            var value: Int64?
            for try await row in rows.decode(Int64?.self) { value = row }
            return value
        }
        guard let stored, stored != own else { return }
        logger.warning(
            "--history differs from the cluster's; the database keeps the cluster's history length",
            metadata: ["history": "\(historyLines)", "cluster-history": "\(stored)"])
    }
}
