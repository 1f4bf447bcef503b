import Foundation
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// Notifications in: each one becomes a hub step, in commit order. After every (re)connect the listener
/// first catches up from the tables (bans, accounts, who is online, every room from its last delivered sequence), so
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
                // The watchdog closes this connection when it stops hearing this node's probes, whatever the
                // listener is waiting for on it.
                state.withLockedValue { $0.listenerConnection = connection }
                let probes = hearProbes(on: connection)
                defer { probes.cancel() }
                do {
                    try await listenAndAnswer(on: connection)
                    if caughtUpOnce(connection) { backoff = .milliseconds(100) }
                    try? await connection.close()
                    if Task.isCancelled { return }
                    await linkLost(DatabaseTimeout())
                } catch {
                    if caughtUpOnce(connection) { backoff = .milliseconds(100) }
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

    /// Whether the listener caught up on `connection` before it ended (the next reconnect then starts from the
    /// shortest backoff).
    private func caughtUpOnce(_ connection: PostgresConnection) -> Bool {
        state.withLockedValue { $0.caughtUpOn === connection }
    }

    /// LISTENs on `connection`, catches up, and answers notifications until the connection ends.
    ///
    /// postgres-nio's LISTEN does not always return when its connection is cut while it starts: a listener that
    /// waited for it stayed deaf for good, reconnecting never. So the start has a deadline of its own (5 s), and
    /// after a start that missed it (or a cancellation) the connection is closed and left behind, never waited
    /// for. Once started, the session is waited for until it ends, or until the watchdog gives it up (it heard no
    /// probe) or the node stops: then it is left behind too, with its connection closed. postgres-nio does not
    /// always end a LISTEN whose connection the database terminated (a restart), and a listener that waited for
    /// one was deaf until the node stopped.
    private func listenAndAnswer(on connection: PostgresConnection) async throws {
        let started = FirstOutcome()
        let finished = FirstOutcome()
        state.withLockedValue { $0.listenerSession = finished }
        let session = Task {
            // A LISTEN that fails (rather than hangs) is not waited out either.
            defer {
                started.settle(false)
                finished.settle(true)
            }
            try await connection.listen(on: Self.channel) { notifications in
                started.settle(true)
                try await withDeadline(.seconds(30)) { try await self.catchUp(on: connection) }
                self.state.withLockedValue { $0.caughtUpOn = connection }
                await self.linkRestored()
                try await self.answer(notifications, on: connection)
            }
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(5))
            started.settle(false)
        }
        let didStart = await withTaskCancellationHandler {
            await started.value()
        } onCancel: {
            started.settle(false)
        }
        timer.cancel()
        guard didStart, !Task.isCancelled else {
            session.cancel()
            try? await connection.close()
            throw Task.isCancelled ? CancellationError() : DatabaseTimeout()
        }
        let ended = await withTaskCancellationHandler {
            await finished.value()
        } onCancel: {
            finished.settle(false)
        }
        guard ended else {
            // A query does not end when its task is cancelled; closing the connection ends it, so a node that
            // stops is never held by a read the database has not answered.
            session.cancel()
            connection.close().whenComplete { _ in }
            throw Task.isCancelled ? CancellationError() : DatabaseTimeout()
        }
        try await session.value
    }

    /// Takes every notification as it arrives into a bounded backlog (``DoorbellBacklog``), and acts on the
    /// backlog in a second task, until the stream ends or either fails: however fast the rings come, what
    /// waits is bounded, never the stream that postgres-nio keeps.
    private func answer(_ notifications: PostgresNotificationSequence, on connection: PostgresConnection)
        async throws
    {
        let backlog = NIOLockedValueBox(DoorbellBacklog(node: nodeName))
        let (rings, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { ring.finish() }
                for try await notification in notifications {
                    guard let decoded = self.decode(notification.payload) else { continue }
                    if backlog.withLockedValue({ $0.add(decoded) }) {
                        ring.yield()
                    } else {
                        self.metrics.notificationsCoalesced.increment()
                    }
                }
            }
            group.addTask {
                for await _ in rings {
                    while let steps = backlog.withLockedValue({ $0.take() }) {
                        for step in steps { try await self.act(on: step, on: connection) }
                    }
                }
            }
            // The first to end (the connection closed, or a read failed) ends the other.
            try await group.next()
            group.cancelAll()
        }
    }

    /// A payload, decoded and checked; nil (logged) when it is not one of ours.
    private func decode(_ payload: String) -> ClusterNotification? {
        guard let notification = ClusterNotification.decode(payload) else {
            logger.warning(
                "ignored a cluster notification it could not read",
                metadata: ["payload": "\(ReceivedText.field(String(payload.prefix(200))))"])
            return nil
        }
        if case .roomLines(_, let committedAt, _, _) = notification {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if let lag = ClusterNotification.lagMilliseconds(committedAt: committedAt, now: now) {
                metrics.notificationLag.record(.milliseconds(lag))
            }
        }
        return notification
    }

    private func act(on step: DoorbellBacklog.Step, on connection: PostgresConnection) async throws {
        switch step {
        case .catchUp:
            try await withDeadline(.seconds(30)) { try await self.catchUp(on: connection) }
        case .notification(let notification):
            try await handle(notification, on: connection)
        }
    }

    /// One doorbell (see ``ClusterNotification``): what it points at is read from the tables, and only what
    /// they confirm is acted on.
    private func handle(_ notification: ClusterNotification, on connection: PostgresConnection) async throws {
        guard let hub else { return }
        switch notification {
        case .roomLines(_, _, let rooms, let lastSequences):
            var known = await hub.lastSequences(of: rooms)
            // A room delivered up to the hint has nothing new from this commit (an earlier read took it): under
            // load one read serves many notifications. A forged hint can only save or cost one read.
            if let rooms, let lastSequences {
                for (room, last) in zip(rooms, lastSequences) where (known[room].map { $0 >= last }) == true {
                    known[room] = nil
                }
            }
            guard !known.isEmpty else { return }
            let events = try await events(after: known, on: connection)
            if !events.isEmpty { try await apply(events, to: hub, on: connection) }
        case .presence(let key, let node):
            guard node != nodeName else { return }
            let row = try await remotePresence(nameKey: key, on: connection)
            await hub.refreshRemote(nameKey: key, to: row)
        case .nodeDown(let node, let incarnation):
            if node == nodeName {
                // Believed only when the table agrees that this incarnation is no longer the registered one.
                guard incarnation == self.incarnation, !isRetiring,
                    try await !isRegistered(as: incarnation, on: connection)
                else { return }
                await lostPlace(incarnation: incarnation)
            } else {
                await hub.replaceRemotePresence(
                    ofNode: node, with: try await remotePresence(ofNode: node, on: connection))
            }
        case .bansChanged:
            try await reloadBans(on: connection)
        case .accountsChanged:
            try await readAccountChanges(on: connection)
        case .relays(let node):
            guard node == nodeName else { return }
            try await takeRelays(on: connection)
        }
    }

    /// Hands `events` to the hub; where it finds a gap, reads the missing lines from the table and goes on.
    /// Lines that are no longer stored (a gap longer than the catch-up window) are reported to the room.
    func apply(_ events: [RoomEvent], to hub: Hub, on connection: PostgresConnection) async throws {
        var pending = events
        var lost: Set<RoomName> = []
        while let gap = await hub.applyRoomEvents(pending, acceptingGapsIn: lost) {
            let fetched = try await roomEvents(
                """
                SELECT room, sequence, floor(extract(epoch FROM said_at))::bigint, convert_from(line, 'UTF8'),
                    sender_node, sender_connection, kind, sender_name, body
                FROM securechat_events
                WHERE room = \(gap.room.value) AND sequence >= \(gap.from) AND sequence < \(gap.upTo)
                ORDER BY sequence
                """, on: connection)
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
        try await readAccountChanges(on: connection)
        await hub.replaceRemotePresence(try await remotePresence(on: connection))
        // Only after an outage (while logins are refused): on a link that never dropped, a login's claim may
        // be in the table and not yet in the hub, and putting presence "right" would delete it.
        if isRecovering { try await reconcilePresence(await hub.localPresence(), on: connection) }
        try await takeRelays(on: connection)
        try await catchUpRooms(hub: hub, on: connection)
    }

    /// Most lines one catch-up read takes: a node that was away long reads its rooms in pages, so neither its
    /// memory nor one query grows with the length of the outage.
    static let catchUpPage = 500

    /// Every room this node follows, from its last delivered line on, in pages. A room more than `--history`
    /// lines behind skips to its last `--history` lines (its members are told how many were skipped): a user
    /// back from an outage sees what a newcomer would, not a flood.
    private func catchUpRooms(hub: Hub, on connection: PostgresConnection) async throws {
        var known = await hub.lastSequences()
        let history = Int64(historyLines)
        for (room, latest) in try await latestSequences(of: Array(known.keys), on: connection) {
            guard let last = known[room] else { continue }
            let (behind, overflow) = latest.subtractingReportingOverflow(last)
            guard overflow || behind > history else { continue }
            let (target, under) = latest.subtractingReportingOverflow(history)
            guard !under else { continue }
            await hub.skipRoomLines(room, through: target)
            known[room] = target
        }
        while !known.isEmpty {
            let page = try await events(after: known, limit: Self.catchUpPage, on: connection)
            if !page.isEmpty { try await apply(page, to: hub, on: connection) }
            guard page.count >= Self.catchUpPage else { return }
            for event in page { known[event.room] = max(known[event.room] ?? event.sequence, event.sequence) }
        }
    }

    // MARK: - Reading the tables

    /// Stored lines of `known`'s rooms after the sequence given for each, in each room's order: all of them, or
    /// the first `limit` in (room, sequence) order.
    private func events(
        after known: [RoomName: Int64], limit: Int? = nil, on connection: PostgresConnection
    ) async throws -> [RoomEvent] {
        let pairs = Array(known)
        let rooms = pairs.map(\.key.value)
        let sequences = pairs.map(\.value)
        var query: PostgresQuery = """
            SELECT e.room, e.sequence, floor(extract(epoch FROM e.said_at))::bigint, convert_from(e.line, 'UTF8'),
                e.sender_node, e.sender_connection, e.kind, e.sender_name, e.body
            FROM unnest(\(rooms)::text[], \(sequences)::bigint[]) AS k(room, last)
            JOIN securechat_events e ON e.room = k.room AND e.sequence > k.last
            ORDER BY e.room, e.sequence
            """
        if let limit { query.sql += " LIMIT \(max(limit, 1))" }
        return try await roomEvents(query, on: connection)
    }

    /// The sequence number of the last line committed in each of `rooms` (rooms the database has not seen are
    /// left out).
    private func latestSequences(of rooms: [RoomName], on connection: PostgresConnection) async throws
        -> [RoomName: Int64]
    {
        let rows = try await connection.query(
            "SELECT name, last_sequence FROM securechat_rooms WHERE name = ANY(\(rooms.map(\.value))::text[])",
            logger: logger)
        var latest: [RoomName: Int64] = [:]
        for try await (name, sequence) in rows.decode((String, Int64).self) {
            if let room = RoomName(parsing: name) { latest[room] = sequence }
        }
        return latest
    }

    /// Room lines read from the table, each validated, sanitised and rendered (``StoredEvent``); one with
    /// nothing to show keeps its place in the sequence and is delivered to nobody.
    private func roomEvents(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [RoomEvent] {
        var events: [RoomEvent] = []
        let rows = try await connection.query(query, logger: logger)
        for try await (room, sequence, time, text, senderNode, senderConnection, kind, senderName, body) in rows.decode(
            (String, Int64, Int64, String, String, Int64, String, String, String).self)
        {
            guard let room = RoomName(parsing: room) else { continue }
            events.append(
                RoomEvent(
                    room: room, sequence: sequence, time: Timestamp(secondsSinceEpoch: Int(time)), node: senderNode,
                    except: senderConnection == 0 ? nil : ConnectionID(UInt64(bitPattern: senderConnection)),
                    event: StoredEvent.event(kind: kind, senderName: senderName, body: body, line: text, room: room)
                ))
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
                        convert_from(e.line, 'UTF8'), e.kind, e.sender_name, e.body
                    FROM (SELECT \(room.value)::text AS name) AS k
                    LEFT JOIN securechat_rooms r ON r.name = k.name
                    LEFT JOIN LATERAL (
                        SELECT * FROM securechat_events WHERE room = k.name ORDER BY sequence DESC LIMIT \(historyLines)
                    ) e ON true
                    ORDER BY e.sequence
                    """, logger: logger)
                var last: Int64 = 0
                var history: [History.Entry] = []
                for try await (lastSequence, sequence, time, text, kind, senderName, body) in rows.decode(
                    (Int64?, Int64?, Int64?, String?, String?, String?, String?).self)
                {
                    last = lastSequence ?? 0
                    if sequence != nil, let time, let text, let kind, let senderName, let body,
                        let event = StoredEvent.event(
                            kind: kind, senderName: senderName, body: body, line: text, room: room)
                    {
                        history.append(
                            .init(
                                time: Timestamp(secondsSinceEpoch: Int(time)), event: event,
                                lineBytes: LineRenderer.render(event).readableBytes))
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
        try await presenceRows("WHERE node <> \(nodeName)", on: connection)
    }

    /// What the presence table says of `node`'s members.
    private func remotePresence(ofNode node: String, on connection: PostgresConnection) async throws
        -> [RemotePresence]
    {
        try await presenceRows("WHERE node = \(node) AND node <> \(nodeName)", on: connection)
    }

    /// What the presence table says of `nameKey`: nil when nobody holds it, or this node does.
    private func remotePresence(nameKey: String, on connection: PostgresConnection) async throws -> RemotePresence? {
        try await presenceRows("WHERE name_key = \(nameKey) AND node <> \(nodeName)", on: connection).first
    }

    private func presenceRows(_ filter: PostgresQuery, on connection: PostgresConnection) async throws
        -> [RemotePresence]
    {
        var query: PostgresQuery = """
            SELECT name_key, display_name, node, room, login_order, transport, certificate_fingerprint, address,
                floor(extract(epoch FROM logged_in_at))::bigint
            FROM securechat_presence
            """
        query.sql += " " + filter.sql
        query.binds = filter.binds
        let rows = try await connection.query(query, logger: logger)
        var result: [RemotePresence] = []
        for try await (_, display, node, room, order, transport, fingerprint, address, at) in rows.decode(
            (String, String, String, String, Int64, String, String?, String, Int64).self)
        {
            guard case .success(let name) = Username.validate(display), let room = RoomName(parsing: room) else {
                continue
            }
            result.append(
                RemotePresence(
                    name: name, node: node, room: room, loginOrder: order, transport: TransportCoding.decode(transport),
                    certificateFingerprint: fingerprint.map(ReceivedText.field), address: ReceivedText.field(address),
                    connectedAt: Timestamp(secondsSinceEpoch: Int(at))))
        }
        return result
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
            SELECT pg_notify('securechat', json_build_object('k', 'p', 'u', name_key, 'n', \(nodeName)::text)::text)
            FROM gone
            """, logger: logger)
        try await connection.query(
            """
            WITH moved AS (
                UPDATE securechat_presence p SET room = k.room
                FROM unnest(\(keys)::text[], \(rooms)::text[]) AS k(key, room)
                WHERE p.node = \(nodeName) AND p.name_key = k.key AND p.room <> k.room
                RETURNING p.name_key, p.room)
            SELECT pg_notify('securechat', json_build_object('k', 'p', 'u', name_key, 'n', \(nodeName)::text)::text)
            FROM moved
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
