import NIOCore

/// The hub's one entry point for what a logged-in session asks (``HubRequest``), answered with facts
/// (``HubReply``) that the session's state machine turns into text.
extension Hub {
    /// Most entries one `/users` or `/rooms` reply lists: one line must stay well inside the outbox limit
    /// even with tens of thousands online.
    public static let listLimit = 200

    public func handle(_ request: HubRequest, from id: ConnectionID) -> HubReply {
        let now = NIODeadline.now()
        members[id]?.lastActive = now
        replaceIdleOperator(now: now)
        switch request {
        case .say(let text):
            return say(id, text).map { .pending($0, confirmation: nil) } ?? .done
        case .directMessage(let target, let text):
            let outcome = directMessage(from: id, to: target, text)
            if case .relayed(let receipt, let confirmation) = outcome {
                return .pending(receipt, confirmation: confirmation)
            }
            return .directMessage(to: target, outcome)
        case .users(let all):
            let room = members[id]?.room ?? .lobby
            let total = all ? everyone.count : rooms[room]?.names.count ?? 0
            return .users(UserList(room: all ? nil : room, entries: users(seenBy: id, all: all), total: total))
        case .rooms:
            return .rooms(RoomList(entries: roomList(), total: roomOrder.count))
        case .whois(let target):
            return .whois(target, whois(target))
        case .stats:
            return .stats(
                StatisticsReport(
                    messagesSent: messagesSent(by: id), server: currentStatistics(), now: .now(),
                    node: cluster.map { NodeReport(name: $0.nodeName, nodesUp: $0.nodesUp) }
                )
            )
        case .ping:
            pong(id)
            return .done
        case .join(let typed):
            // A look-alike of a room that exists is that room, under the name it has.
            let room = rooms[typed]?.name ?? typed
            return .join(room, join(id, room: room))
        case .leave:
            return .leave(leaveRoom(id))
        case .kick(let target, let reason):
            return .moderation(target: target, kick(by: id, target: target, reason: reason), lifted: false)
        case .ban(let target, let reason):
            return .moderation(target: target, ban(by: id, target: target, reason: reason), lifted: false)
        case .unban(let target):
            return .moderation(target: target, unban(by: id, target: target), lifted: true)
        case .bans(let page):
            return .bans(banPage(page, seenBy: id))
        case .ignore(let target):
            return .ignore(ignore(by: id, target: target))
        case .unignore(let target):
            return .ignore(unignore(by: id, target: target))
        }
    }

    // MARK: - Queries

    public var onlineCount: Int { members.count }

    public func currentStatistics() -> HubStatistics {
        var result = statistics
        result.usersOnline = members.count
        result.rooms = roomOrder.count
        return result
    }

    /// Messages the member has sent (chat lines and DMs).
    public func messagesSent(by id: ConnectionID) -> Int {
        members[id]?.messagesSent ?? 0
    }

    /// `/users`: the first ``listLimit`` of the caller's room, or of everyone with `all`, in name order. The
    /// work is bounded by the reply: the names are kept sorted as people come and go.
    public func users(seenBy id: ConnectionID, all: Bool) -> [UserListing] {
        guard let caller = members[id] else { return [] }
        let index = all ? everyone : rooms[caller.room]?.names ?? SortedNameIndex()
        return index.first(Self.listLimit).compactMap { entry in
            members[entry.id].map {
                UserListing(
                    name: $0.name.display, room: $0.room, isOperator: $0.isOperator, transport: $0.info.transport)
            }
        }
    }

    /// `/rooms`: the first ``listLimit`` rooms in name order, with their member counts.
    public func roomList() -> [RoomListing] {
        roomOrder.prefix(Self.listLimit).map { RoomListing(name: $0, members: rooms[$0]?.population ?? 0) }
    }

    /// `/whois`.
    public func whois(_ name: String) -> WhoisListing? {
        guard let id = idsByName[Username.key(for: name)], let member = members[id] else { return nil }
        return WhoisListing(
            name: member.name.display, room: member.room, isOperator: member.isOperator,
            transport: member.info.transport, connectedAt: member.info.connectedAt,
            certificateFingerprint: member.info.certificateFingerprint, account: member.account
        )
    }
}
