import Foundation
import NIOCore
import PostgresNIO

/// Notifications in: each one becomes a hub step, in commit order. After every (re)connect the listener
/// first catches up from the tables (bans, who is online, every room from its last delivered sequence), so
/// nothing committed while it was away is missed or delivered twice.
extension ClusterLink {
    func listen() async {
        var backoff = TimeAmount.milliseconds(100)
        while !Task.isCancelled {
            do {
                let connection = try await withDeadline(.seconds(5), discardingLate: { try? await $0.close() }) {
                    [connectionConfiguration, configuration, group, logger] in
                    try await DatabaseSocket.connect(
                        on: group.next(), configuration: connectionConfiguration, keepalive: configuration.keepalive,
                        id: 1, logger: logger)
                }
                // The watchdog closes the connection when it stops hearing this node's probes.
                let probes = hearProbes(on: connection)
                defer { probes.cancel() }
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        try await withDeadline(.seconds(30)) { try await self.catchUp(on: connection) }
                        await self.linkRestored()
                        backoff = .milliseconds(100)
                        for try await notification in notifications {
                            try await self.handle(notification.payload, on: connection)
                        }
                    }
                    try? await connection.close()
                    if Task.isCancelled { return }
                    await linkLost(DatabaseTimeout())
                } catch {
                    try? await connection.close()
                    throw error
                }
            } catch {
                if Task.isCancelled { return }
                await linkLost(error)
            }
            try? await Task.sleep(for: .nanoseconds(backoff.nanoseconds))
            backoff = .nanoseconds(min(backoff.nanoseconds * 2, TimeAmount.seconds(2).nanoseconds))
        }
    }

    private func handle(_ payload: String, on connection: PostgresConnection) async throws {
        guard let hub, let notification = ClusterNotification.decode(payload) else {
            logger.warning(
                "ignored a cluster notification it could not read", metadata: ["payload": "\(payload.prefix(200))"])
            return
        }
        switch notification {
        case .roomLines(let node, let committedAt, let lines):
            let lag = Int64(Date().timeIntervalSince1970 * 1000) - committedAt
            if lag >= 0 { metrics.notificationLag.record(.milliseconds(lag)) }
            var events: [RoomEvent] = []
            events.reserveCapacity(lines.count)
            var missing: [ClusterNotification.Line] = []
            for line in lines where line.text == nil { missing.append(line) }
            let fetched = missing.isEmpty ? [:] : try await lineTexts(missing, on: connection)
            let time = Timestamp(secondsSinceEpoch: Int(committedAt / 1000))
            for line in lines {
                guard let room = RoomName(parsing: line.room),
                    let text = line.text ?? fetched[Key(room: line.room, sequence: line.sequence)]
                else { continue }
                events.append(
                    RoomEvent(
                        room: room, sequence: line.sequence, time: time, node: node,
                        except: line.except == 0 ? nil : ConnectionID(UInt64(bitPattern: line.except)),
                        line: ByteBuffer(string: text)))
            }
            try await apply(events, to: hub, on: connection)
        case .loggedIn(let presence):
            guard presence.n != nodeName, let remote = Self.remotePresence(presence) else { return }
            await hub.applyPresence(.loggedIn(remote))
        case .moved(let key, let node, let room):
            guard node != nodeName, let room = RoomName(parsing: room) else { return }
            await hub.applyPresence(.moved(nameKey: key, node: node, room: room))
        case .left(let key, let node):
            guard node != nodeName else { return }
            await hub.applyPresence(.left(nameKey: key, node: node))
        case .nodeDown(let node, let incarnation):
            if node == nodeName {
                await lostPlace(incarnation: incarnation)
            } else {
                await hub.nodeLost(node)
            }
        case .bansChanged:
            try await reloadBans(on: connection)
        case .directMessage(let node, let key, let line):
            guard node == nodeName else { return }
            await hub.deliverRelayedDirectMessage(to: key, ByteBuffer(string: line))
        case .kick(let node, let key, let action, let by, let reason):
            guard node == nodeName, let action = CloseReason.Moderation.Action(rawValue: action) else { return }
            await hub.removeRelayed(key, reason: .removedByOperator(.init(action, by: by, reason: reason)))
        }
    }

    /// Hands `events` to the hub; where it finds a gap, reads the missing lines from the table and goes on.
    /// Lines that are no longer stored (a gap longer than the catch-up window) are reported to the room.
    func apply(_ events: [RoomEvent], to hub: Hub, on connection: PostgresConnection) async throws {
        var pending = events
        var lost: Set<RoomName> = []
        while let gap = await hub.applyRoomEvents(pending, acceptingGapsIn: lost) {
            let fetched = try await roomEvents(
                "SELECT room, sequence, floor(extract(epoch FROM said_at))::bigint, convert_from(line, 'UTF8') FROM securechat_events WHERE room = \(gap.room.value) AND sequence >= \(gap.from) AND sequence < \(gap.upTo) ORDER BY sequence",
                on: connection)
            metrics.gapLinesFetched.increment(by: Int64(fetched.count))
            if fetched.first?.sequence != gap.from { lost.insert(gap.room) }
            pending = fetched + pending
        }
    }

    /// Everything that may have changed while nobody was listening.
    func catchUp(on connection: PostgresConnection) async throws {
        guard let hub else { return }
        let registeredAs = incarnation
        guard try await isRegistered(as: registeredAs, on: connection) else {
            // Declared down while away: rejoining catches up afresh (not from inside this catch-up).
            Task { await self.lostPlace(incarnation: registeredAs) }
            return
        }
        try await reloadBans(on: connection)
        await hub.replaceRemotePresence(try await remotePresence(on: connection))
        // Only after an outage (while logins are refused): on a link that never dropped, a login's claim may
        // be in the table and not yet in the hub, and putting presence "right" would delete it.
        if isRecovering { try await reconcilePresence(await hub.localPresence(), on: connection) }
        let known = await hub.lastSequences()
        let rooms = known.keys.map(\.value)
        let sequences = rooms.map { known[RoomName(parsing: $0)!] ?? 0 }
        let missed = try await roomEvents(
            """
            SELECT e.room, e.sequence, floor(extract(epoch FROM e.said_at))::bigint, convert_from(e.line, 'UTF8')
            FROM unnest(\(rooms)::text[], \(sequences)::bigint[]) AS k(room, last)
            JOIN securechat_events e ON e.room = k.room AND e.sequence > k.last
            ORDER BY e.room, e.sequence
            """, on: connection)
        if !missed.isEmpty { try await apply(missed, to: hub, on: connection) }
    }

    // MARK: - Reading the tables

    private struct Key: Hashable {
        let room: String
        let sequence: Int64
    }

    private func lineTexts(
        _ lines: [ClusterNotification.Line], on connection: PostgresConnection
    ) async throws -> [Key: String] {
        let rooms = lines.map(\.room)
        let sequences = lines.map(\.sequence)
        let rows = try await connection.query(
            """
            SELECT e.room, e.sequence, convert_from(e.line, 'UTF8')
            FROM unnest(\(rooms)::text[], \(sequences)::bigint[]) AS k(room, sequence)
            JOIN securechat_events e ON e.room = k.room AND e.sequence = k.sequence
            """, logger: logger)
        var result: [Key: String] = [:]
        for try await (room, sequence, text) in rows.decode((String, Int64, String).self) {
            result[Key(room: room, sequence: sequence)] = text
        }
        metrics.gapLinesFetched.increment(by: Int64(result.count))
        return result
    }

    private func roomEvents(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [RoomEvent] {
        var events: [RoomEvent] = []
        let rows = try await connection.query(query, logger: logger)
        for try await (room, sequence, time, text) in rows.decode((String, Int64, Int64, String).self) {
            guard let room = RoomName(parsing: room) else { continue }
            events.append(
                RoomEvent(
                    room: room, sequence: sequence, time: Timestamp(secondsSinceEpoch: Int(time)), node: "",
                    except: nil, line: ByteBuffer(string: text)))
        }
        return events
    }

    /// A room's last `--history` lines and its sequence number, for a user here joining a room this node
    /// keeps no lines of (nil when the database cannot be asked). A room the database has never seen is
    /// empty, at sequence 0.
    public func roomSnapshot(of room: RoomName) async -> RoomSnapshot? {
        guard isLinked else { return nil }
        do {
            return try await workConnection.run { [historyLines, logger] connection in
                let rows = try await connection.query(
                    """
                    SELECT r.last_sequence, e.sequence, floor(extract(epoch FROM e.said_at))::bigint,
                        convert_from(e.line, 'UTF8')
                    FROM (SELECT \(room.value)::text AS name) AS k
                    LEFT JOIN securechat_rooms r ON r.name = k.name
                    LEFT JOIN LATERAL (
                        SELECT * FROM securechat_events WHERE room = k.name ORDER BY sequence DESC LIMIT \(historyLines)
                    ) e ON true
                    ORDER BY e.sequence
                    """, logger: logger)
                var last: Int64 = 0
                var history: [History.Entry] = []
                for try await (lastSequence, sequence, time, text) in rows.decode(
                    (Int64?, Int64?, Int64?, String?).self)
                {
                    last = lastSequence ?? 0
                    if sequence != nil, let time, let text {
                        history.append(
                            .init(time: Timestamp(secondsSinceEpoch: Int(time)), line: ByteBuffer(string: text)))
                    }
                }
                return RoomSnapshot(room: room, lastSequence: last, history: history)
            }
        } catch {
            logger.warning(
                "could not read a room's history",
                metadata: ["room": "\(room)", "error": "\(ClusterError.reason(error))"])
            return nil
        }
    }

    private func remotePresence(on connection: PostgresConnection) async throws -> [RemotePresence] {
        let rows = try await connection.query(
            """
            SELECT name_key, display_name, node, room, login_order, transport, certificate_fingerprint, address,
                floor(extract(epoch FROM logged_in_at))::bigint
            FROM securechat_presence WHERE node <> \(nodeName)
            """, logger: logger)
        var result: [RemotePresence] = []
        for try await (key, display, node, room, order, transport, fingerprint, address, at) in rows.decode(
            (String, String, String, String, Int64, String, String?, String, Int64).self)
        {
            let presence = ClusterNotification.Presence(
                u: key, d: display, n: node, r: room, l: order, t: transport, f: fingerprint, a: address, c: at)
            if let remote = Self.remotePresence(presence) { result.append(remote) }
        }
        return result
    }

    static func remotePresence(_ presence: ClusterNotification.Presence) -> RemotePresence? {
        guard case .success(let name) = Username.validate(presence.d), let room = RoomName(parsing: presence.r)
        else { return nil }
        return RemotePresence(
            name: name, node: presence.n, room: room, loginOrder: presence.l,
            transport: TransportCoding.decode(presence.t), certificateFingerprint: presence.f,
            address: presence.a, connectedAt: Timestamp(secondsSinceEpoch: Int(presence.c)))
    }

    /// The presence table lists this node's members as they are: whoever left or moved while the link was
    /// down is put right (the others are told through the usual notifications).
    private func reconcilePresence(_ local: [LocalPresence], on connection: PostgresConnection) async throws {
        let claiming = await hub?.namesBeingClaimed() ?? []
        let keys = local.map(\.name.key) + claiming
        let rooms = local.map(\.room.value) + claiming.map { _ in RoomName.lobby.value }
        try await connection.query(
            """
            WITH gone AS (
                DELETE FROM securechat_presence WHERE node = \(nodeName) AND NOT (name_key = ANY(\(keys)::text[]))
                RETURNING name_key)
            SELECT pg_notify('securechat', json_build_object('k', 'p', 'o', 'out', 'u', name_key, 'n',
                \(nodeName)::text)::text) FROM gone
            """, logger: logger)
        try await connection.query(
            """
            WITH moved AS (
                UPDATE securechat_presence p SET room = k.room
                FROM unnest(\(keys)::text[], \(rooms)::text[]) AS k(key, room)
                WHERE p.node = \(nodeName) AND p.name_key = k.key AND p.room <> k.room
                RETURNING p.name_key, p.room)
            SELECT pg_notify('securechat', json_build_object('k', 'p', 'o', 'mv', 'u', name_key, 'n',
                \(nodeName)::text, 'r', room)::text) FROM moved
            """, logger: logger)
    }

    /// Reads the cluster's ban list into the store the accept path checks, and disconnects whoever here the
    /// new bans match.
    func reloadBans(on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT display_name, network::text, banned_by, floor(extract(epoch FROM banned_at))::bigint, reason
            FROM securechat_bans ORDER BY id
            """, logger: logger)
        var list: [Ban] = []
        for try await (name, network, by, at, reason) in rows.decode((String?, String?, String, Int64, String?).self) {
            list.append(
                Ban(
                    name: name, network: network.flatMap { try? IPNetwork($0) }, bannedBy: by,
                    bannedAt: Timestamp(secondsSinceEpoch: Int(at)), reason: reason))
        }
        let brought = bans.replace(with: list)
        if !brought.isEmpty { await hub?.enforce(BanList(brought)) }
    }
}
