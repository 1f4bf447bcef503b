import NIOCore

/// The hub's side of a cluster (`--cluster`): committed room lines arriving in each room's order, who is
/// logged in on the other nodes, and what happens when the link to the database or another node fails.
/// Everything here is a synchronous step, like the rest of the hub; the `ClusterLink` calls it.
extension Hub {
    // MARK: - Logging in across nodes

    /// First half of a cluster login: the checks a single node makes, then the name is held here while the
    /// database decides who gets it. nil means "claim it now"; anything else is the answer. A log-in to the
    /// name's account (`account`) takes the name over: a connection of this node that holds it is closed
    /// first, and one on another node loses it in the database (``ClusterLink/claim(_:for:takingOver:)``).
    public func reserveLogin(_ info: ClientInfo, name: Username, account: LoginMethod? = nil) -> LoginOutcome? {
        if clusterUnavailable { return .clusterUnavailable }
        if let refusal = refusal(of: info, name: name) {
            guard refusal == .nameTaken, account != nil, pendingClaims[name.key] == nil else { return refusal }
            if let holder = idsByName[name.key], members[holder]?.node == nil {
                remove(holder, reason: .loggedInElsewhere)
            }
        }
        pendingClaims[name.key] = info.id
        return nil
    }

    /// Second half: the database's answer. A connection that ended while its claim was out gives the name
    /// straight back.
    public func completeLogin(
        _ info: ClientInfo, name: Username, outbox: any ClientOutbox, claim: NameClaim, account: LoginMethod? = nil
    ) -> LoginOutcome {
        guard pendingClaims[name.key] == info.id else {
            if case .won = claim { cluster?.released(name) }
            return .nameTaken
        }
        pendingClaims[name.key] = nil
        switch claim {
        case .taken: return .nameTaken
        case .unavailable: return .clusterUnavailable
        case .won(let order):
            // The database says the name is free: whatever this node still lists under it is stale.
            if let stale = idsByName[name.key], members[stale]?.node != nil { dropRemote(stale) }
            return admit(info, name: name, outbox: outbox, loginOrder: UInt64(max(0, order)), account: account)
        }
    }

    // MARK: - Room lines

    /// Committed room lines, in commit order. Each is applied as on a single node (`Hub.apply`: its room's
    /// history, then the members here but its sender); one already delivered is skipped. At the first line that skips ahead of its room's
    /// sequence, nothing more is applied and the gap is returned, for the link to fetch what is missing and
    /// call again. `acceptingGapsIn` names rooms whose missing lines are gone from the database: their
    /// members are told, and delivery goes on.
    ///
    /// A node keeps a room's lines only while its own users are in it (`#lobby`'s always): for any other
    /// room there is nobody here to deliver to, and joining it loads its history from the database
    /// (`join(_:loading:)`). So a node's memory grows with its users, not with every room the cluster has
    /// ever had.
    public func applyRoomEvents(_ events: [RoomEvent], acceptingGapsIn lost: Set<RoomName> = []) -> SequenceGap? {
        let me = cluster?.nodeName
        for event in events {
            guard let room = rooms[event.room], keepsLines(of: room) else { continue }
            let last = room.lastSequence
            if event.sequence <= last { continue }
            // `last < event.sequence`, so `last + 1` cannot overflow; the difference can (a negative `last`).
            if event.sequence > last + 1 {
                guard lost.contains(event.room) else {
                    return SequenceGap(room: event.room, from: last + 1, upTo: event.sequence)
                }
                let (difference, overflow) = event.sequence.subtractingReportingOverflow(last)
                let missed = overflow ? Int64.max : difference - 1
                deliver(
                    ChatEvent.error(
                        "\(missed) line\(missed == 1 ? "" : "s") of \(event.room) could not be recovered."),
                    to: .room(event.room))
            }
            apply(event, fromThisNode: event.node == me)
        }
        return nil
    }

    /// Catch-up found `room` more than `--history` lines behind: its lines up to `sequence` are skipped rather
    /// than replayed, and its members here are told once how many (`* 1,234 earlier lines of #lobby were
    /// skipped.`). The lines after `sequence` then arrive as usual.
    public func skipRoomLines(_ room: RoomName, through sequence: Int64) {
        guard let kept = rooms[room], keepsLines(of: kept), sequence > kept.lastSequence else { return }
        let (difference, overflow) = sequence.subtractingReportingOverflow(kept.lastSequence)
        rooms[room]!.lastSequence = sequence
        let skipped = overflow ? Int64.max : difference
        deliver(
            ChatEvent.notice(
                "\(Self.withThousandsSeparators(skipped)) earlier line\(skipped == 1 ? "" : "s") of \(room)"
                    + " \(skipped == 1 ? "was" : "were") skipped."),
            to: .room(room))
    }

    /// `1234567` as `1,234,567`, whatever the locale.
    static func withThousandsSeparators(_ number: Int64) -> String {
        let digits = Array(String(number.magnitude))
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return number < 0 ? "-" + grouped : grouped
    }

    /// Whether this node follows `room`'s lines: `#lobby` always, any other room while a user here is in it.
    func keepsLines(of room: Room) -> Bool {
        room.name == .lobby || !room.members.isEmpty
    }

    /// Whether joining `room` here must first load its history from the database (see `applyRoomEvents`).
    public func needsSnapshot(of room: RoomName) -> Bool {
        guard cluster != nil, room != .lobby else { return false }
        return rooms[room].map { !keepsLines(of: $0) } ?? true
    }

    /// `/join` of a room this node keeps no lines of: installs its history and sequence number as the database
    /// had them, then joins as usual, in one step. Lines committed after the snapshot was read were skipped
    /// here; the next line of the room (the join's own notice at the latest) finds the gap and reads them, so
    /// the newcomer still sees every line once, replayed or live.
    public func join(_ id: ConnectionID, loading snapshot: RoomSnapshot) -> HubReply {
        if needsSnapshot(of: snapshot.room) {
            if rooms[snapshot.room] == nil { rooms[snapshot.room] = makeRoom(snapshot.room) }
            forgetLines(of: snapshot.room)
            for entry in snapshot.history { storeInHistory(entry, in: snapshot.room) }
            rooms[snapshot.room]!.lastSequence = snapshot.lastSequence
        }
        let reply = handle(.join(snapshot.room), from: id)
        // A refused join leaves nothing behind.
        dropIfEmpty(snapshot.room)
        return reply
    }

    /// The last delivered sequence number of each room this node follows, to catch up from after the link
    /// comes back.
    public func lastSequences() -> [RoomName: Int64] {
        var result: [RoomName: Int64] = [:]
        for (name, room) in rooms where keepsLines(of: room) { result[name] = room.lastSequence }
        return result
    }

    /// The last delivered sequence number of those of `rooms` this node follows (of every room it follows when
    /// `rooms` is nil): where a doorbell's read starts.
    public func lastSequences(of rooms: [RoomName]?) -> [RoomName: Int64] {
        guard let rooms else { return lastSequences() }
        var result: [RoomName: Int64] = [:]
        for name in rooms {
            if let room = self.rooms[name], keepsLines(of: room) { result[name] = room.lastSequence }
        }
        return result
    }

    // MARK: - Who is where

    /// A login, a move or a departure on another node.
    public func applyPresence(_ change: PresenceChange) {
        switch change {
        case .loggedIn(let presence):
            addRemote(presence)
        case .moved(let key, let node, let room):
            guard let id = idsByName[key], let member = members[id], member.node == node, member.room != room
            else { return }
            takeOutOfRoom(id, member)
            dropIfEmpty(member.room)
            openRoom(room)
            members[id]?.room = room
            rooms[room]!.remoteMembers.insert(id)
            rooms[room]!.names.insert(key: member.sortKey, id: id)
        case .left(let key, let node):
            guard let id = idsByName[key], members[id]?.node == node else { return }
            dropRemote(id)
        }
    }

    /// Everyone on the other nodes, read afresh (after the link was down, notifications may have been missed).
    public func replaceRemotePresence(_ everyoneElse: [RemotePresence]) {
        let current = Dictionary(everyoneElse.map { ($0.name.key, $0) }, uniquingKeysWith: { first, _ in first })
        for (id, member) in members where member.node != nil && current[member.name.key]?.node != member.node {
            dropRemote(id)
        }
        for presence in everyoneElse {
            if let id = idsByName[presence.name.key], let member = members[id], member.node == presence.node {
                if member.room != presence.room {
                    applyPresence(.moved(nameKey: presence.name.key, node: presence.node, room: presence.room))
                }
            } else {
                addRemote(presence)
            }
        }
    }

    /// What the presence table says now of `nameKey` (nil: nobody on another node holds it), after a
    /// notification said it changed. A member of this node keeps the name.
    public func refreshRemote(nameKey key: String, to presence: RemotePresence?) {
        guard let presence else {
            if let id = idsByName[key], members[id]?.node != nil { dropRemote(id) }
            return
        }
        if let id = idsByName[key], let member = members[id], member.node == presence.node {
            if member.room != presence.room {
                applyPresence(.moved(nameKey: key, node: presence.node, room: presence.room))
            }
            return
        }
        addRemote(presence)
    }

    /// What the presence table says now of `node`'s members, after a notification said it was declared down:
    /// whoever is no longer listed there is gone; whoever is (a forged notification, or a restart's new
    /// members) stays.
    public func replaceRemotePresence(ofNode node: String, with listed: [RemotePresence]) {
        let current = Set(listed.map(\.name.key))
        for (id, member) in members where member.node == node && !current.contains(member.name.key) {
            dropRemote(id)
        }
        for presence in listed { refreshRemote(nameKey: presence.name.key, to: presence) }
    }

    /// A node was declared down: its members are gone (the node that declared it announced their departure).
    public func nodeLost(_ node: String) {
        for (id, member) in members where member.node == node { dropRemote(id) }
    }

    /// This node was declared down by the others while it could not answer: its users' names may already be
    /// someone else's, so every user here is told and disconnected, without announcements (the others
    /// announced them already).
    public func lostPlaceInCluster() {
        let wasShuttingDown = shuttingDown
        shuttingDown = true
        for (id, member) in members where member.node == nil { remove(id, reason: .serverLost) }
        shuttingDown = wasShuttingDown
        for (id, member) in members where member.node != nil { dropRemote(id) }
        pendingClaims.removeAll()
    }

    /// The members of this node as the presence table should list them.
    public func localPresence() -> [LocalPresence] {
        members.values.filter { $0.node == nil }.map { LocalPresence(name: $0.name, room: $0.room) }
    }

    /// The names this node is claiming right now (their rows may be in the table before the hub admits them).
    public func namesBeingClaimed() -> Set<String> {
        Set(pendingClaims.keys)
    }

    func addRemote(_ presence: RemotePresence) {
        if let existing = idsByName[presence.name.key], let member = members[existing] {
            if member.node == nil {
                // This node's own member keeps the name, unless the name was taken over by a later log-in to its
                // account on another node (a row read before this member's own claim has an earlier order).
                guard UInt64(max(0, presence.loginOrder)) > member.loginSequence else { return }
                remove(existing, reason: .loggedInElsewhere)
            } else {
                // A stale entry from another node gives way.
                if member.node == presence.node { return }
                dropRemote(existing)
            }
        }
        lastRemoteID += 1
        let id = ConnectionID(lastRemoteID)
        let info = ClientInfo(
            id: id, address: presence.address, transport: presence.transport, connectedAt: presence.connectedAt,
            certificateFingerprint: presence.certificateFingerprint
        )
        let loginOrder = UInt64(max(0, presence.loginOrder))
        let member = Member(
            info: info, name: presence.name, place: .elsewhere(node: presence.node),
            sortKey: presence.name.display.lowercased(), room: presence.room,
            isOperator: isConfiguredOperator(info) || takeFirstUserRole(loginOrder: loginOrder),
            loginSequence: loginOrder, lastActive: .now()
        )
        members[id] = member
        publishOnlineCount()
        idsByName[presence.name.key] = id
        everyone.insert(key: member.sortKey, id: id)
        if member.isOperator { operators.insert(id) }
        openRoom(presence.room)
        rooms[presence.room]!.remoteMembers.insert(id)
        rooms[presence.room]!.names.insert(key: member.sortKey, id: id)
    }

    func dropRemote(_ id: ConnectionID) {
        guard let member = members[id], member.node != nil else { return }
        takeOutOfRoom(id, member)
        members[id] = nil
        publishOnlineCount()
        if idsByName[member.name.key] == id { idsByName[member.name.key] = nil }
        everyone.remove(key: member.sortKey, id: id)
        operators.remove(id)
        dropIfEmpty(member.room)
        if member.isOperator { passOperatorRole(from: member) }
    }

    /// Whether what other nodes must see cannot be done now (a cluster's link is down; never alone).
    var clusterUnavailable: Bool {
        clusterPaused || !log.isWritable
    }

    // MARK: - What other nodes ask of this one

    /// A direct message from a member of another node to a member of this one. One from a name the recipient
    /// ignores goes nowhere, as on a single node (its sender was told it was sent).
    public func deliverRelayedDirectMessage(to nameKey: String, _ message: ChatEvent) {
        guard let id = idsByName[nameKey], let recipient = members[id], recipient.node == nil else { return }
        if case .directMessage(let from, _) = message, recipient.ignoring[Username.key(for: from)] != nil { return }
        statistics.messages += 1
        deliver(message, to: .connection(id))
    }

    /// An operator on another node kicked or banned a member of this one.
    public func removeRelayed(_ nameKey: String, reason: CloseReason) {
        guard let id = idsByName[nameKey], members[id]?.node == nil else { return }
        remove(id, reason: reason)
    }

    /// The cluster's ban list changed: whoever here the new bans match is disconnected.
    public func enforce(_ brought: BanList) {
        disconnectMatching(brought)
    }

    // MARK: - The link to the database

    /// The link went down: everyone here is told once that chat is paused.
    public func linkDown() {
        guard !clusterPaused else { return }
        clusterPaused = true
        deliver(
            ChatEvent.error(
                "Chat is paused: this server has lost its link to the cluster's database. Lines you send are"
                    + " refused until it is back; you stay connected."),
            to: .everyone)
    }

    /// The link is back and caught up.
    public func linkUp() {
        guard clusterPaused else { return }
        clusterPaused = false
        deliver(ChatEvent.notice("Chat resumed."), to: .everyone)
    }
}
