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

    /// Beats every `heartbeatInterval`, each beat within `heartbeatDeadline` on its own connection. A beat also
    /// sends a probe this node's listener must hear, declares down the nodes that stopped beating (only after
    /// this node's own beats have succeeded without a break for a node timeout), and counts the nodes up.
    /// Every ``presenceCheckBeats`` successful beats, this node's presence rows are checked against its hub.
    func heartbeatLoop() async {
        var beatsSinceCheck = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .nanoseconds(configuration.heartbeatInterval.nanoseconds))
            if Task.isCancelled { return }
            let started = NIODeadline.now()
            let probe = state.withLockedValue { state -> UInt64 in
                state.probesSent &+= 1
                return state.probesSent
            }
            do {
                guard try await beat(probe: probe) else { continue }
                await carryOut(
                    state.withLockedValue { $0.link.heartbeatSucceeded(at: .now(), probe: probe, sentAt: started) })
                beatsSinceCheck += 1
                if beatsSinceCheck >= Self.presenceCheckBeats {
                    beatsSinceCheck = 0
                    scheduleReconciliation()
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("heartbeat failed", metadata: ["error": "\(ClusterError.reason(error))"])
                await carryOut(state.withLockedValue { $0.link.heartbeatFailed(at: .now()) }, because: error)
            }
        }
    }

    /// Checks a few times per heartbeat interval whether the listener heard the last probe in time and whether
    /// this node has gone a full node timeout without a heartbeat (a beat that hangs reports nothing).
    func watchdogLoop() async {
        let period = TimeAmount.nanoseconds(configuration.heartbeatInterval.nanoseconds / 4)
        while !Task.isCancelled {
            try? await Task.sleep(for: .nanoseconds(period.nanoseconds))
            if Task.isCancelled { return }
            await carryOut(state.withLockedValue { $0.link.tick(at: .now()) })
        }
    }

    /// One heartbeat; false when this incarnation was found declared down (``lostPlace`` has acted).
    private func beat(probe sequence: UInt64) async throws -> Bool {
        let timeout = Int64(configuration.nodeTimeout.nanoseconds / 1_000_000)
        let beatingAs = incarnation
        let probe = "\(beatingAs) \(sequence)"
        let mayDeclare = state.withLockedValue { $0.link.mayDeclareOthersDown(at: .now()) }
        let (alive, up, gone) = try await heartbeatConnection.run(timeout: configuration.heartbeatDeadline) {
            [logger, nodeName] connection in
            var alive = false
            for try await _ in try await connection.query(
                """
                WITH beat AS (
                    UPDATE securechat_nodes SET heartbeat_at = now()
                    WHERE name = \(nodeName) AND incarnation = \(beatingAs) AND NOT declared_dead RETURNING 1)
                SELECT pg_notify(\(Self.probeChannel), \(probe)) FROM beat
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
            return false
        }
        state.withLockedValue { $0.nodesUp = up }
        metrics.nodesUp.set(Int64(up))
        for (name, room) in gone { announceDeparture(of: name, from: room, reason: .serverLost) }
        return true
    }

    /// Hears this node's probes on the listener's `connection`, until cancelled or the connection ends: a
    /// listener that stops hearing them is deaf, whatever its socket says, and the watchdog closes it.
    func hearProbes(on connection: PostgresConnection) -> Task<Void, Never> {
        Task {
            try? await connection.listen(on: Self.probeChannel) { probes in
                // A connection the listener has already given up on is not watched.
                guard !connection.isClosed else { return }
                self.state.withLockedValue { state in
                    state.listenerConnection = connection
                    _ = state.link.listenerConnected(at: .now())
                }
                // A probe carries the incarnation that sent it and its number; another node's proves nothing.
                for try await probe in probes {
                    let fields = probe.payload.utf8.count <= 64 ? probe.payload.split(separator: " ") : []
                    guard fields.count == 2, let incarnation = Int64(fields[0]), let number = UInt64(fields[1]),
                        incarnation == self.incarnation
                    else { continue }
                    _ = self.state.withLockedValue { $0.link.probeHeard(number) }
                }
            }
        }
    }

    /// The others declared this node down while it could not answer (a long pause, a partition): its users'
    /// names may already be someone else's. Everyone here is told and disconnected, and the node rejoins
    /// under a new incarnation, empty, so the cluster never has two owners of one name. Nothing the old
    /// incarnation queued is committed. The heartbeat and the listener may both notice; only the first call for
    /// an incarnation acts, and none while the node is stopping.
    func lostPlace(incarnation dead: Int64) async {
        let given = state.withLockedValue { state -> QueuedWork? in
            guard state.incarnation == dead, state.link.declaredDown() == .rejoin else { return nil }
            state.incarnation = Int64.random(in: 1...Int64.max)
            return QueuedWork(takingFrom: &state)
        }
        guard let given else { return }
        given.refuse()
        metrics.linkUp.set(Int64(0))
        logger.error("this node was declared down by the cluster; disconnecting its users and rejoining")
        await hub?.lostPlaceInCluster()
        do {
            try await register()
            try await workConnection.run(timeout: .seconds(30)) { connection in
                try await self.catchUp(on: connection)
            }
            await carryOut(state.withLockedValue { $0.link.rejoined(at: .now()) })
            logger.notice("rejoined the cluster", metadata: ["incarnation": "\(incarnation)"])
        } catch {
            // The next heartbeat finds the new incarnation unregistered and tries again.
            _ = state.withLockedValue { $0.link.rejoinFailed() }
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
