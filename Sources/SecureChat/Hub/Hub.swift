import Logging
import NIOCore
import Synchronization

/// The single owner of shared state: users, rooms, history. Everything that more than one connection can see
/// goes through here, one step at a time.
///
/// Delivery is synchronous: the hub puts one shared buffer into each recipient's `ClientOutbox` and moves on.
/// It never awaits a client, so a slow reader cannot slow the hub; a reader whose outbox overflows is removed
/// in the same step.
public actor Hub {
    struct Member {
        /// Where a member is reached.
        enum Place {
            /// On this node, through their outbox.
            case here(any ClientOutbox)
            /// On another node (`--cluster`): lines for them travel through the cluster, never through here.
            case elsewhere(node: String)
        }

        let info: ClientInfo
        let name: Username
        let place: Place
        /// The name in lower case, computed once: listings sort by it (the skeleton `name.key` would put
        /// `user001` after `user100`).
        let sortKey: String
        var room: RoomName
        var isOperator: Bool
        /// Login order: the longest-connected remaining member succeeds an operator who leaves.
        let loginSequence: UInt64
        var messagesSent = 0
        /// When the member last asked the hub anything (a line, a command): an idle operator hands the role on.
        var lastActive: NIODeadline
        var hasSpoken = false
        /// Bans this member may still make (see `HubConfiguration.bansPerMinute`); made at the first ban.
        var banBudget: RateLimiter? = nil
        /// Direct messages this member may still receive (`directMessagesPerSecond`); made at the first one.
        var directMessageBudget: RateLimiter? = nil
        /// `/ignore`: the skeletons of the names whose lines and DMs this member does not get, with the names
        /// as shown. For this session only.
        var ignoring: [String: String] = [:]
        /// How the member proved a registered name is theirs; nil for an unregistered name.
        var account: LoginMethod? = nil

        /// The node the member is connected to, or nil for this one.
        var node: String? {
            if case .elsewhere(let node) = place { node } else { nil }
        }

        /// The member's outbox, or nil for a member of another node.
        var outbox: (any ClientOutbox)? {
            if case .here(let outbox) = place { outbox } else { nil }
        }
    }

    /// Its reloadable settings change on SIGHUP (`applyReloadable`, Hub+Reload.swift).
    var configuration: HubConfiguration
    let logger: Logger
    /// Every change of its count is followed by `publishOnlineCount()`. (Not a `didSet`: that would also run at
    /// every change of a member's fields, several per chat line.)
    var members: [ConnectionID: Member] = [:]
    /// `members.count`, for `publishedOnlineCount`.
    private nonisolated let membersOnline = Atomic<Int>(0)
    var idsByName: [String: ConnectionID] = [:]
    /// How many members of this node speak JSON (see `Room.jsonMembers`).
    var jsonMembers = 0
    /// Everyone in name order, for `/users all`.
    var everyone = SortedNameIndex()
    var rooms: [RoomName: Room] = [:]
    /// Room names in order, for `/rooms`.
    var roomOrder: [RoomName] = [.lobby]
    /// Who holds the operator role now: found in O(1), not by a scan at every login.
    var operators: Set<ConnectionID> = []
    /// The last time the hub looked for an idle operator to replace (at most once a minute).
    var lastIdleOperatorCheck = NIODeadline.uptimeNanoseconds(0)
    var statistics: HubStatistics
    /// The ban list; the accept path reads the same store.
    let bans: BanStore
    /// Per-event log lines are rate-limited, so a login storm or a ban storm cannot fill the disk; each line
    /// that gets through says how many like it were dropped.
    nonisolated let loginLog = LogRateLimiter(maxPerInterval: 20, interval: .seconds(1))
    let leaveLog = LogRateLimiter(maxPerInterval: 20, interval: .seconds(1))
    let moderationLog = LogRateLimiter(maxPerInterval: 20, interval: .seconds(1))
    var loginSequence: UInt64 = 0
    var shuttingDown = false
    /// The other nodes, when this node is one of a cluster; nil alone.
    let cluster: (any ClusterSeam)?
    /// Where room events are committed: the cluster's log, or alone a log that commits at once (see ``RoomLog``).
    let log: any RoomLog
    /// Names being claimed in the cluster's presence table, by the connection claiming them: taken for
    /// everyone else here until the claim is decided.
    var pendingClaims: [String: ConnectionID] = [:]
    /// Ids for members of other nodes, from a range local connections never reach.
    var lastRemoteID: UInt64 = 1 << 62
    /// True while the cluster link is down (users were told chat is paused).
    var clusterPaused = false
    /// Who ignores each name (by skeleton): a chat line from a name nobody ignores costs one look-up.
    var ignorers: [String: Set<ConnectionID>] = [:]
    /// New rooms per address (IPv6: per /64), the least recently seen forgotten first.
    var roomCreation = RecencyTable<RateLimiter>(capacity: 65_536)
    /// All rooms' history together (single node; in a cluster each room keeps its own bounds).
    var historyBudget: HistoryBudget

    public init(
        configuration: HubConfiguration = HubConfiguration(),
        bans: BanStore? = nil,
        cluster: (any ClusterSeam)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.cluster = cluster
        self.log = cluster ?? LocalRoomLog()
        self.bans = bans ?? BanStore(logger: logger)
        self.logger = logger
        self.statistics = HubStatistics(
            usersOnline: 0, rooms: 1, startedAt: .now(), messages: 0, deliveries: 0, logins: 0,
            overflowEvictions: 0
        )
        self.historyBudget = HistoryBudget(byteCapacity: configuration.historyBytesTotal)
        self.rooms[.lobby] = Room(
            name: .lobby, historyCapacity: configuration.historyLines,
            historyByteCapacity: configuration.historyBytesPerRoom)
    }

    /// The number of members as of the hub's last step, readable from any thread without waiting for the hub
    /// (the greeting, sent on the connection's event loop).
    public nonisolated var publishedOnlineCount: Int { membersOnline.load(ordering: .relaxed) }

    func publishOnlineCount() {
        membersOnline.store(members.count, ordering: .relaxed)
    }

    // MARK: - Login and leaving

    /// Registers a user, replays `#lobby`'s history to them and announces them — in one step, so the newcomer
    /// sees every line exactly once, either replayed or live. In a cluster the name must first be claimed
    /// cluster-wide: `reserveLogin`, the claim, then `completeLogin`.
    ///
    /// With `account`, the user has proved the name is theirs (a registered name, by password or certificate):
    /// a connection of this node that holds it is closed first (`You logged in from another connection.`), so
    /// nobody waits for a dead connection of theirs to time out.
    public func login(
        _ info: ClientInfo, name: Username, outbox: any ClientOutbox, account: LoginMethod? = nil
    ) -> LoginOutcome {
        if let refusal = refusal(of: info, name: name) {
            guard refusal == .nameTaken, account != nil, let holder = idsByName[name.key],
                members[holder]?.node == nil
            else { return refusal }
            remove(holder, reason: .loggedInElsewhere)
        }
        loginSequence += 1
        return admit(info, name: name, outbox: outbox, loginOrder: loginSequence, account: account)
    }

    /// Why `name` cannot log in from `info` right now, or nil if it can.
    func refusal(of info: ClientInfo, name: Username) -> LoginOutcome? {
        // A holder of a configured operator certificate is never locked out by a ban.
        if !isConfiguredOperator(info) {
            if bans.matching(address: info.address) != nil {
                loginLog.log(
                    "banned address refused", metadata: ["connection": "\(info.id)", "peer": "\(info.address)"],
                    to: logger)
                return .addressBanned
            }
            if bans.matching(name: name.display) != nil {
                loginLog.log(
                    "banned name refused", metadata: ["connection": "\(info.id)", "user": "\(name)"], to: logger)
                return .nameBanned
            }
        }
        guard idsByName[name.key] == nil, pendingClaims[name.key] == nil else { return .nameTaken }
        return nil
    }

    /// Makes a member of a user whose name is theirs: the welcome, the operator role if it is due, `#lobby`.
    func admit(
        _ info: ClientInfo, name: Username, outbox: any ClientOutbox, loginOrder: UInt64, account: LoginMethod? = nil
    ) -> LoginOutcome {
        let takesFirstUserRole = takeFirstUserRole(loginOrder: loginOrder)
        let isOperator =
            (account != nil && configuration.operatorAccounts.contains(name.key)) || isConfiguredOperator(info)
            || takesFirstUserRole
        members[info.id] = Member(
            info: info, name: name, place: .here(outbox), sortKey: name.display.lowercased(), room: .lobby,
            isOperator: isOperator, loginSequence: loginOrder,
            lastActive: .now(), account: account
        )
        publishOnlineCount()
        if outbox.format == .json { jsonMembers += 1 }
        idsByName[name.key] = info.id
        everyone.insert(key: members[info.id]!.sortKey, id: info.id)
        if isOperator { operators.insert(info.id) }
        statistics.logins += 1
        loginLog.log(
            "user logged in", metadata: ["connection": "\(info.id)", "user": "\(name)", "peer": "\(info.address)"],
            level: .info, to: logger
        )

        let others = rooms[.lobby]?.population ?? 0
        deliver(
            .welcome(name: name.display, room: .lobby, others: others, account: account), to: .connection(info.id))
        if isOperator {
            deliver(.notice("You are an operator."), to: .connection(info.id))
        }
        enter(info.id, room: .lobby)
        return .loggedIn(room: .lobby, isOperator: members[info.id]?.isOperator ?? isOperator)
    }

    // MARK: - Talking

    /// A chat line: committed to the room's log, then into the room's history and to everyone in the room but
    /// the sender (and those who ignore them). Alone that is one step; in a cluster the receipt says when it is
    /// committed (it then comes back through `applyRoomEvents`, in the room's order, like everyone else's).
    @discardableResult
    public func say(_ id: ConnectionID, _ text: String) -> CommitReceipt? {
        guard let member = members[id] else { return nil }
        if clusterUnavailable { return CommitReceipt(.notSent) }
        if configuration.logMessages {
            logger.info("chat", metadata: ["connection": "\(id)", "room": "\(member.room)", "text": "\(text)"])
        }
        members[id]?.messagesSent += 1
        members[id]?.hasSpoken = true
        statistics.messages += 1
        return commit(
            .said(from: member.name.display, text: text, room: member.room), in: member.room, except: id,
            confirmed: true)
    }

    /// A direct message to anyone, in any room. The sender gets a confirmation. Never stored in history.
    public func directMessage(from id: ConnectionID, to target: String, _ text: String) -> DirectMessageOutcome {
        guard let sender = members[id] else { return .noSuchUser }
        guard let targetID = idsByName[Username.key(for: target)], let recipient = members[targetID] else {
            return .noSuchUser
        }
        if targetID == id { return .toSelf }
        if let node = recipient.node {
            guard let cluster, !clusterUnavailable else { return .clusterUnavailable }
            members[id]?.messagesSent += 1
            members[id]?.hasSpoken = true
            statistics.messages += 1
            let receipt = CommitReceipt()
            cluster.relayDirectMessage(
                from: sender.name.display, text: text, to: RemoteMember(node: node, nameKey: recipient.name.key),
                receipt: receipt)
            return .relayed(receipt, confirmation: .directMessageSent(to: recipient.name.display, text: text))
        }
        // An ignored sender is not told: the message goes nowhere, and costs the recipient's budget nothing.
        let ignored = recipient.ignoring[sender.name.key] != nil
        if !ignored {
            if members[targetID]!.directMessageBudget == nil {
                members[targetID]!.directMessageBudget = RateLimiter(
                    ratePerSecond: configuration.directMessagesPerSecond, burst: configuration.directMessageBurst)
            }
            guard members[targetID]!.directMessageBudget!.admit(now: .now()) else { return .recipientBusy }
        }
        if configuration.logMessages {
            logger.info("direct message", metadata: ["connection": "\(id)", "to": "\(target)", "text": "\(text)"])
        }
        members[id]?.messagesSent += 1
        members[id]?.hasSpoken = true
        statistics.messages += 1
        if !ignored {
            deliver(.directMessage(from: sender.name.display, text: text), to: .connection(targetID))
        }
        deliver(.directMessageSent(to: recipient.name.display, text: text), to: .connection(id))
        return .sent
    }

    /// `/ping`: answers `* pong` in the hub's order, after every line the hub queued for this user so far.
    /// Like the session's other command answers it is not counted as a delivery (deliveries are what the
    /// hub routes between users and rooms).
    func pong(_ id: ConnectionID) {
        guard let outbox = members[id]?.outbox, outbox.send(.pong) == .overflow else { return }
        remove(id, reason: .sendQueueOverflow)
    }

    // MARK: - Rooms

    /// Moves a member to `room`, creating it if needed; replays its history and announces the move in one step.
    public func join(_ id: ConnectionID, room: RoomName) -> JoinOutcome {
        guard let member = members[id] else { return .alreadyThere }
        if member.room == room { return .alreadyThere }
        if clusterUnavailable { return .clusterUnavailable }
        // Leaving a room one is alone in frees its slot, so it does not count against the cap.
        let freesASlot = member.room != .lobby && rooms[member.room]?.population == 1
        let exists = (rooms[room]?.population ?? 0) > 0 || room == .lobby
        if !exists && roomOrder.count - (freesASlot ? 1 : 0) >= configuration.maximumRooms {
            return .tooManyRooms
        }
        if !exists && !chargeRoomCreation(by: member) { return .creatingTooFast }
        takeOutOfRoom(id, member)
        // Before the notice: every node learns where the member went no later than it shows that they left.
        cluster?.moved(member.name, to: room)
        announce(
            .left(
                name: member.name.display, room: member.room,
                text: "\(member.name) left \(member.room) (joined \(room))"),
            in: member.room)
        dropIfEmpty(member.room)
        enter(id, room: room)
        return .joined
    }

    /// `/leave`: back to `#lobby`.
    public func leaveRoom(_ id: ConnectionID) -> LeaveRoomOutcome {
        guard let member = members[id], member.room != .lobby else { return .alreadyInLobby }
        if join(id, room: .lobby) == .clusterUnavailable { return .clusterUnavailable }
        return .movedToLobby
    }

    // MARK: - Internals

    /// Puts a member into a room: history replay to them, then the join notice to the others and into history.
    func enter(_ id: ConnectionID, room name: RoomName) {
        guard let member = members[id] else { return }
        openRoom(name)
        members[id]?.room = name
        guard let outbox = member.outbox else { return }
        rooms[name]!.addMember(id, outbox)
        rooms[name]!.names.insert(key: member.sortKey, id: id)
        if name != .lobby || member.room != .lobby {
            let count = rooms[name]!.population
            deliver(.entered(room: name, members: count), to: .connection(id))
        }
        // That notice may have overflowed the outbox and removed the member: then no join is announced.
        guard members[id] != nil, replayHistory(of: name, to: id) else { return }
        announce(.joined(name: member.name.display, room: name), in: name, except: id)
    }

    /// Makes sure `name` is a room with a place in `/rooms` (in a cluster it may exist already, with users of
    /// other nodes in it, or with the history a join just loaded).
    func openRoom(_ name: RoomName) {
        if rooms[name] == nil { rooms[name] = makeRoom(name) }
        if rooms[name]!.population == 0, name != .lobby {
            roomOrder.insert(name, at: roomOrder.firstIndex { $0.value > name.value } ?? roomOrder.endIndex)
        }
    }

    /// Replays a room's history to one member. Returns false if they are gone (their outbox overflowed).
    @discardableResult
    func replayHistory(of room: RoomName, to id: ConnectionID) -> Bool {
        guard let outbox = members[id]?.outbox else { return false }
        guard let history = rooms[room]?.history, !history.isEmpty else { return true }
        var batch = WakeUpBatch()
        defer { batch.wake() }
        let format = outbox.format
        var overflowed =
            batch.enqueue(format.render(.historyStart(room: room, count: history.count)), in: outbox) == .overflow
        history.forEach { entry in
            if !overflowed {
                let replayed = format.render(.replayed(entry.event, at: entry.time))
                overflowed = batch.enqueue(replayed, in: outbox) == .overflow
            }
        }
        if !overflowed {
            overflowed = batch.enqueue(format.render(.historyEnd(room: room)), in: outbox) == .overflow
        }
        statistics.deliveries += history.count + 2
        if overflowed {
            remove(id, reason: .sendQueueOverflow)
            return false
        }
        return true
    }

    /// A room with nobody in it yet, bounded as configured.
    func makeRoom(_ name: RoomName) -> Room {
        var room = Room(
            name: name, historyCapacity: configuration.historyLines,
            historyByteCapacity: configuration.historyBytesPerRoom)
        room.generation = historyBudget.nextGeneration()
        return room
    }

    /// A room event that goes into its history (joins and leaves), through the log like a chat line.
    ///
    /// In a room of more than `configuration.announceLimit` members, joins and leaves go unannounced (`always`
    /// overrides this for kicks and bans): each would be a delivery to everyone, so a crowd logging in would
    /// cost the square of its size, and in such a room they are noise anyway.
    func announce(_ event: ChatEvent, in room: RoomName, except id: ConnectionID? = nil, always: Bool = false) {
        if !always, let members = rooms[room]?.population, members > configuration.announceLimit { return }
        commit(event, in: room, except: id)
    }

    /// Appends a room event to the log. A log that commits at once (a single node) has it applied in this same
    /// step; a cluster's commit comes back through `applyRoomEvents`. Returns the receipt of a `confirmed` event
    /// still being committed.
    @discardableResult
    func commit(_ event: ChatEvent, in room: RoomName, except: ConnectionID?, confirmed: Bool = false)
        -> CommitReceipt?
    {
        switch log.append(event, to: room, except: except, confirmed: confirmed) {
        case .pending(let receipt):
            return receipt
        case .committed(let time):
            guard let current = rooms[room], keepsLines(of: current) else { return nil }
            apply(
                RoomEvent(
                    room: room, sequence: current.lastSequence + 1, time: time, node: "", except: except, event: event),
                fromThisNode: true)
            return nil
        }
    }

    /// A committed room event, in its room's order, on every node alike: into the room's history first (if
    /// delivering it evicts someone, their leave notice belongs after it, as people saw it), then to the room's
    /// members here, but its sender (when it came from this node) and, for a chat line, whoever ignores them.
    func apply(_ committed: RoomEvent, fromThisNode: Bool) {
        rooms[committed.room]!.lastSequence = committed.sequence
        // A stored line with nothing printable left (see ReceivedText) keeps its place and shows nowhere.
        guard let event = committed.event else { return }
        let line = LineRenderer.render(event)
        storeInHistory(.init(time: committed.time, event: event, lineBytes: line.readableBytes), in: committed.room)
        let sender = fromThisNode ? committed.except : nil
        if !ignorers.isEmpty, case .said(let from, _, _) = event, let ignoring = ignorers[Username.key(for: from)],
            !ignoring.isEmpty
        {
            deliver(
                event, line: line, to: .roomExceptAll(committed.room, sender.map { ignoring.union([$0]) } ?? ignoring))
        } else if let sender {
            deliver(event, line: line, to: .roomExcept(committed.room, sender))
        } else {
            deliver(event, line: line, to: .room(committed.room))
        }
    }

    func takeOutOfRoom(_ id: ConnectionID, _ member: Member) {
        rooms[member.room]?.removeMember(id)
        rooms[member.room]?.remoteMembers.remove(id)
        rooms[member.room]?.names.remove(key: member.sortKey, id: id)
    }

    /// An empty room other than `#lobby` disappears, with its history (in a cluster the database keeps its
    /// lines, and a later join loads them). In a cluster, a room left to users of other nodes keeps its
    /// members here, for `/users` and `/rooms`, but no lines.
    func dropIfEmpty(_ room: RoomName) {
        guard room != .lobby, let current = rooms[room] else { return }
        if current.population == 0 {
            historyBudget.discarded(current)
            rooms[room] = nil
            roomOrder.removeAll { $0 == room }
        } else if current.members.isEmpty, current.lastSequence != 0 || !current.history.isEmpty {
            // Only users of other nodes are left: their nodes follow the room, this one lets its lines go.
            forgetLines(of: room)
        }
    }

    /// Empties a room's history and forgets its place in the log (it is followed again from a snapshot). The
    /// room's lines leave the all-rooms bound, and it is a new opening for it (`Room.generation`).
    func forgetLines(of room: RoomName) {
        guard let current = rooms[room] else { return }
        historyBudget.discarded(current)
        rooms[room]!.history = History(
            capacity: configuration.historyLines, byteCapacity: configuration.historyBytesPerRoom)
        rooms[room]!.lastSequence = 0
        rooms[room]!.generation = historyBudget.nextGeneration()
    }

    /// The server is shutting down: from now on departures are not announced and the operator role is not
    /// passed on (everyone is leaving, and each user has been told why).
    public func beginShutdown() {
        shuttingDown = true
    }

    /// The one way a member leaves, whatever the reason: out of their room (announced, unless the server is
    /// shutting down), out of the name index, the operator role passed on, and their connection closed with
    /// `reason` (which sends what is queued first; a connection already closing keeps its first reason).
    /// Idempotent: a second call for the same id does nothing.
    public func remove(_ id: ConnectionID, reason: CloseReason) {
        guard let member = members[id] else {
            if let name = pendingClaims.first(where: { $0.value == id })?.key { pendingClaims[name] = nil }
            return
        }
        let outbox: any ClientOutbox
        switch member.place {
        case .elsewhere(let node):
            // Theirs to remove: their node announces it, and the presence change brings it here.
            cluster?.relayKick(of: RemoteMember(node: node, nameKey: member.name.key), reason: reason)
            return
        case .here(let here):
            outbox = here
        }
        if reason == .sendQueueOverflow { statistics.overflowEvictions += 1 }
        if let farewell = reason.farewell {
            // Straight into the outbox, not through `deliver`: if it overflows, the user still leaves as kicked.
            outbox.send(.error(farewell))
        }
        takeOutOfRoom(id, member)
        members[id] = nil
        publishOnlineCount()
        if outbox.format == .json { jsonMembers -= 1 }
        idsByName[member.name.key] = nil
        everyone.remove(key: member.sortKey, id: id)
        stopIgnoring(member, id: id)
        operators.remove(id)
        outbox.close(reason: reason)
        if shuttingDown { return }
        cluster?.released(member.name)
        announce(
            .left(
                name: member.name.display, room: member.room,
                text: reason.leaveNotice(name: member.name.display, room: member.room)),
            in: member.room, always: reason.isAlwaysAnnounced
        )
        dropIfEmpty(member.room)
        leaveLog.log(
            "user left", metadata: ["connection": "\(id)", "user": "\(member.name)", "reason": "\(reason.leaveText)"],
            level: .info, to: logger
        )
        if member.isOperator { passOperatorRole(from: member) }
    }

    /// Hands `event` to every recipient's outbox, rendered once per format in use. Recipients whose outbox
    /// overflows are removed afterwards, which announces their departure (and may, in turn, overflow someone
    /// else: handled the same way).
    func deliver(_ event: ChatEvent, to delivery: Delivery) {
        // One recipient (a reply, a DM, a notice): rendered in their format only.
        if case .connection(let id) = delivery {
            guard let format = members[id]?.outbox?.format else { return }
            deliver(line: format.render(event), json: nil, to: delivery)
            return
        }
        deliver(event, line: LineRenderer.render(event), to: delivery)
    }

    /// `deliver(_:to:)` with the line rendering made already (it also sizes the history entry).
    func deliver(_ event: ChatEvent, line: ByteBuffer, to delivery: Delivery) {
        // Rendered, and each recipient asked its format, only where someone speaks JSON: elsewhere the loop is
        // what it was before formats existed (fan-out is the hot path).
        let someSpeakJSON =
            switch delivery {
            case .everyone: jsonMembers > 0
            case .room(let room), .roomExcept(let room, _), .roomExceptAll(let room, _):
                (rooms[room]?.jsonMembers ?? 0) > 0
            case .connection(let id): members[id]?.outbox?.format == .json
            }
        deliver(line: line, json: someSpeakJSON ? JSONRenderer.render(event) : nil, to: delivery)
    }

    /// Hands `line` to every recipient, or `json` to those that speak JSON when it is given.
    private func deliver(line: ByteBuffer, json: ByteBuffer?, to delivery: Delivery) {
        var overflowed: [ConnectionID] = []
        var batch = WakeUpBatch()
        defer { batch.wake() }
        func send(_ id: ConnectionID, _ outbox: any ClientOutbox) {
            let result =
                if let json, outbox.format == .json {
                    batch.enqueue(json, in: outbox)
                } else {
                    batch.enqueue(line, in: outbox)
                }
            if result == .overflow { overflowed.append(id) }
        }
        switch delivery {
        case .everyone:
            var count = 0
            for (id, member) in members {
                guard let outbox = member.outbox else { continue }
                send(id, outbox)
                count += 1
            }
            statistics.deliveries += count
        case .room(let room):
            guard let recipients = rooms[room]?.members else { return }
            for (id, outbox) in recipients { send(id, outbox) }
            statistics.deliveries += recipients.count
        case .roomExcept(let room, let sender):
            guard let recipients = rooms[room]?.members else { return }
            for (id, outbox) in recipients where id != sender { send(id, outbox) }
            statistics.deliveries += recipients.count - (recipients[sender] == nil ? 0 : 1)
        case .roomExceptAll(let room, let excluded):
            guard let recipients = rooms[room]?.members else { return }
            var count = 0
            for (id, outbox) in recipients where !excluded.contains(id) {
                send(id, outbox)
                count += 1
            }
            statistics.deliveries += count
        case .connection(let id):
            // One recipient: no batch to gather, the outbox is woken directly.
            guard let outbox = members[id]?.outbox else { return }
            if outbox.send(json ?? line) == .overflow { overflowed.append(id) }
            statistics.deliveries += 1
        }
        for id in overflowed { remove(id, reason: .sendQueueOverflow) }
    }
}
