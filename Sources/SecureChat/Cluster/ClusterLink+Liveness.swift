import NIOCore
import PostgresNIO

/// Heartbeats, declaring silent nodes down, and what a node does when it finds it was declared down itself.
extension ClusterLink {
    /// Whether this node's incarnation is still the registered, living one.
    func isRegistered(as incarnation: Int64, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            SELECT 1 FROM securechat_nodes
            WHERE name = \(nodeName) AND incarnation = \(incarnation) AND NOT declared_dead
            """, logger: logger)
        var found = false
        for try await _ in rows { found = true }
        return found
    }

    /// Beats every `heartbeatInterval`; each beat also declares down the nodes that stopped beating, counts
    /// the nodes up, and now and then deletes history nobody can need any more.
    func heartbeatLoop() async {
        var beats = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .nanoseconds(configuration.heartbeatInterval.nanoseconds))
            if Task.isCancelled { return }
            beats += 1
            do {
                try await beat()
                if beats % 50 == 0 { try await prune() }
            } catch {
                logger.debug("heartbeat failed", metadata: ["error": "\(ClusterError.reason(error))"])
            }
        }
    }

    private func beat() async throws {
        let timeout = Int64(configuration.nodeTimeout.nanoseconds / 1_000_000)
        let beatingAs = incarnation
        let mayDeclare = state.withLockedValue {
            $0.linked && NIODeadline.now() - $0.linkedSince >= configuration.nodeTimeout
        }
        let (alive, up, gone) = try await workConnection.run { [logger, nodeName] connection in
            var alive = false
            for try await _ in try await connection.query(
                """
                UPDATE securechat_nodes SET heartbeat_at = now()
                WHERE name = \(nodeName) AND incarnation = \(beatingAs) AND NOT declared_dead RETURNING 1
                """, logger: logger)
            {
                alive = true
            }
            guard alive else { return (false, 0, [(String, String)]()) }
            let gone =
                !mayDeclare
                ? []
                : try await Self.departures(
                    connection.query(
                        "SELECT display_name, room FROM securechat_sweep(\(nodeName), \(timeout))", logger: logger)
                )
            var up = 1
            for try await count in try await connection.query(
                """
                SELECT count(*)::bigint FROM securechat_nodes
                WHERE NOT declared_dead AND heartbeat_at > now() - \(timeout) * interval '1 millisecond'
                """, logger: logger
            ).decode(Int.self) {
                up = count
            }
            return (true, up, gone)
        }
        guard alive else {
            await lostPlace(incarnation: beatingAs)
            return
        }
        state.withLockedValue { $0.nodesUp = up }
        metrics.nodesUp.set(Int64(up))
        for (name, room) in gone { announceDeparture(of: name, from: room, reason: .serverLost) }
    }

    /// Lines older than every node's history and than the catch-up window are deleted.
    private func prune() async throws {
        let window = Int64(configuration.catchUpWindow.nanoseconds / 1_000_000_000)
        _ = try await workConnection.run(timeout: .seconds(30)) { [logger, historyLines] connection in
            try await connection.query(
                """
                DELETE FROM securechat_events e USING securechat_rooms r
                WHERE e.room = r.name AND e.sequence <= r.last_sequence - \(historyLines)
                    AND e.said_at < now() - \(window) * interval '1 second'
                """, logger: logger)
        }
    }

    /// The others declared this node down while it could not answer (a long pause, a partition): its users'
    /// names may already be someone else's. Everyone here is told and disconnected, and the node rejoins
    /// under a new incarnation, empty, so the cluster never has two owners of one name. The heartbeat and the
    /// listener may both notice; only the first call for an incarnation acts.
    func lostPlace(incarnation dead: Int64) async {
        let acting = state.withLockedValue { state -> Bool in
            guard state.incarnation == dead, !state.rejoining, !state.retiring else { return false }
            state.rejoining = true
            state.linked = false
            state.incarnation = Int64.random(in: 1...Int64.max)
            state.work.removeAll { item in
                if case .claim(_, _, let continuation) = item { continuation.resume(returning: .unavailable) }
                return true
            }
            return true
        }
        guard acting else { return }
        logger.error("this node was declared down by the cluster; disconnecting its users and rejoining")
        await hub?.lostPlaceInCluster()
        do {
            try await register()
            try await workConnection.run(timeout: .seconds(30)) { connection in
                try await self.catchUp(on: connection)
            }
            state.withLockedValue { $0.rejoining = false }
            await linkRestored()
            logger.notice("rejoined the cluster", metadata: ["incarnation": "\(incarnation)"])
        } catch {
            // The next heartbeat finds the new incarnation unregistered and tries again.
            state.withLockedValue { $0.rejoining = false }
            logger.error("could not rejoin the cluster", metadata: ["error": "\(ClusterError.reason(error))"])
        }
    }

    /// `--ban-file` in a cluster: imported into the database once (the first node to start with it), and
    /// never written again; the database holds the bans from then on.
    func importBanFile(_ path: String) async throws {
        let bans = try BanFile.load(path: path).bans
        let source = "ban-file:\(path)"
        // Arrays of text cannot hold a Swift nil here: absent values travel as '' and become NULL.
        let keys = bans.map { $0.name.map(Username.key(for:)) ?? "" }
        let names = bans.map { $0.name ?? "" }
        let networks = bans.map { $0.network?.description ?? "" }
        let by = bans.map(\.bannedBy)
        let at = bans.map { Int64($0.bannedAt.secondsSinceEpoch) }
        let reasons = bans.map { $0.reason ?? "" }
        let imported = try await workConnection.run { [logger] connection in
            // One statement: the marker and the bans commit together or not at all.
            let rows = try await connection.query(
                """
                WITH marker AS (
                    INSERT INTO securechat_imports (source) VALUES (\(source)) ON CONFLICT DO NOTHING RETURNING 1),
                added AS (
                    INSERT INTO securechat_bans (name_key, display_name, network, banned_by, banned_at, reason)
                    SELECT nullif(k, ''), nullif(d, ''), nullif(n, '')::cidr, b, to_timestamp(a), nullif(r, '')
                    FROM unnest(\(keys)::text[], \(names)::text[], \(networks)::text[], \(by)::text[],
                        \(at)::bigint[], \(reasons)::text[]) AS t(k, d, n, b, a, r)
                    WHERE EXISTS (SELECT 1 FROM marker)
                    RETURNING 1)
                SELECT (SELECT count(*) FROM marker)::bigint, (SELECT count(*) FROM added)::bigint
                """, logger: logger)
            var result = (0, 0)
            for try await row in rows.decode((Int, Int).self) { result = row }
            return result
        }
        guard imported.0 == 1 else { return }
        logger.notice("imported the ban file into the cluster", metadata: ["bans": "\(imported.1)", "path": "\(path)"])
    }
}
