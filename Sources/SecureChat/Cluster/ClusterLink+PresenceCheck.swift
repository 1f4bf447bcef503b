import NIOCore
import PostgresNIO

/// Each node checks its own presence rows against its hub now and then: a row no member here holds (a
/// claim whose commit was uncertain, a departure that never reached the database) would keep a name taken
/// for good, and is removed.
extension ClusterLink {
    /// Every how many successful heartbeats the presence rows are checked.
    static let presenceCheckBeats = 5

    /// Deletes this node's presence rows that neither a member here nor a claim in progress holds, and tells
    /// the others. Runs in the work queue, so no claim of this node commits between the hub's answer and the
    /// delete.
    func reconcileOwnPresence() async throws {
        guard let hub else { return }
        // The claims first: a claim answered between the two calls is among the members by the second (the
        // hub admits it in the same step that ends the claim). No new claim is answered before this ends.
        let claiming = await hub.namesBeingClaimed()
        let keys = await hub.localPresence().map(\.name.key) + claiming
        let removed = try await workConnection.run { [logger, nodeName] connection in
            let rows = try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM securechat_presence WHERE node = \(nodeName) AND NOT (name_key = ANY(\(keys)::text[]))
                    RETURNING name_key)
                SELECT pg_notify('securechat', json_build_object('k', 'p', 'u', name_key, 'n', \(nodeName)::text)::text)
                FROM gone
                """, logger: logger)
            var removed = 0
            for try await _ in rows { removed += 1 }
            return removed
        }
        guard removed > 0 else { return }
        logger.notice("removed presence rows no member here holds", metadata: ["rows": "\(removed)"])
    }
}
