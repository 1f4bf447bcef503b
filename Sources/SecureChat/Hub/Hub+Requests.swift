/// The hub's one entry point for what a logged-in session asks (``HubRequest``), answered with facts
/// (``HubReply``) that the session's state machine turns into text.
extension Hub {
    /// Most entries one `/users` or `/rooms` reply lists: one line must stay well inside the outbox limit
    /// even with tens of thousands online.
    public static let listLimit = 200

    public func handle(_ request: HubRequest, from id: ConnectionID) -> HubReply {
        switch request {
        case .say(let text):
            say(id, text)
            return .done
        case .directMessage(let target, let text):
            return .directMessage(to: target, directMessage(from: id, to: target, text))
        case .users(let all):
            let users = self.users(seenBy: id, all: all)
            return .users(
                UserList(room: all ? nil : members[id]?.room, entries: Array(users.prefix(Self.listLimit)), total: users.count)
            )
        case .rooms:
            let rooms = roomList()
            return .rooms(RoomList(entries: Array(rooms.prefix(Self.listLimit)), total: rooms.count))
        case .whois(let target):
            return .whois(target, whois(target))
        case .stats:
            return .stats(
                StatisticsReport(messagesSent: messagesSent(by: id), server: currentStatistics(), now: .now())
            )
        case .ping:
            pong(id)
            return .done
        case .join(let room):
            return .join(room, join(id, room: room))
        case .leave:
            return .leave(leaveRoom(id))
        case .kick(let target, let reason):
            return .moderation(target: target, kick(by: id, target: target, reason: reason), lifted: false)
        case .ban(let target, let reason):
            return .moderation(target: target, ban(by: id, target: target, reason: reason), lifted: false)
        case .unban(let target):
            return .moderation(target: target, unban(by: id, target: target), lifted: true)
        case .bans:
            return .bans(banList(seenBy: id))
        }
    }

    // MARK: - Queries

    public var onlineCount: Int { members.count }

    public func currentStatistics() -> HubStatistics {
        var result = statistics
        result.usersOnline = members.count
        result.rooms = rooms.count
        return result
    }

    /// Messages the member has sent (chat lines and DMs).
    public func messagesSent(by id: ConnectionID) -> Int {
        members[id]?.messagesSent ?? 0
    }

    /// `/users`: the caller's room, or everyone with `all`. Sorted by name.
    public func users(seenBy id: ConnectionID, all: Bool) -> [UserListing] {
        guard let caller = members[id] else { return [] }
        let listed = all ? Array(members.values) : (rooms[caller.room]?.members.keys.compactMap { members[$0] } ?? [])
        return listed.map {
            UserListing(name: $0.name.display, room: $0.room, isOperator: $0.isOperator, transport: $0.info.transport)
        }.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    /// `/rooms`: every room with its member count, sorted by name.
    public func roomList() -> [RoomListing] {
        rooms.values.map { RoomListing(name: $0.name, members: $0.members.count) }.sorted { $0.name.value < $1.name.value }
    }

    /// `/whois`.
    public func whois(_ name: String) -> WhoisListing? {
        guard let id = idsByName[name.lowercased()], let member = members[id] else { return nil }
        return WhoisListing(
            name: member.name.display, room: member.room, isOperator: member.isOperator,
            transport: member.info.transport, connectedAt: member.info.connectedAt,
            certificateFingerprint: member.info.certificateFingerprint
        )
    }
}
