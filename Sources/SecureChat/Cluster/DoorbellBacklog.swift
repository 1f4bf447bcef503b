/// Notifications read from the listener's connection and not yet acted on, merged.
///
/// postgres-nio hands notifications over as fast as they arrive and keeps whatever is not taken yet, without a
/// bound. The listener therefore takes each one at once and merges it here, and acts on the backlog in another
/// task. Merging loses nothing, because a notification is only a doorbell (``ClusterNotification``): two rings
/// for one room or one name are answered by one read of the table. The backlog holds at most `limit` distinct
/// rooms, names and nodes; one more (a flood, forged or not) turns it into a single full catch-up, which reads
/// everything a doorbell could point at.
struct DoorbellBacklog: Sendable {
    /// What acting on the backlog takes, in this order: departures of nodes and names first, so that no node
    /// shows a line before it knows who is gone, then bans, accounts, relays, and the rooms' lines.
    enum Step: Sendable, Equatable {
        case catchUp
        case notification(ClusterNotification)
    }

    static let limit = 1_000

    /// This node: relays for other nodes and presence changes made here are not for it.
    private let node: String
    private var needsCatchUp = false
    private var nodesDown: [String: Int64] = [:]
    private var presence: Set<PresenceKey> = []
    private var bansChanged = false
    private var accountsChanged = false
    private var relays = false
    /// Rooms with new lines, each with the highest sequence hinted (``unknownSequence`` when a ring gave none).
    private var rooms: [RoomName: Int64] = [:]
    /// A ring that did not list its rooms (they did not fit): every room is read.
    private var allRooms = false

    /// A hint that never lets a read be skipped: no room is ever delivered up to it.
    static let unknownSequence = Int64.max

    private struct PresenceKey: Hashable {
        let nameKey: String
        let node: String
    }

    init(node: String) {
        self.node = node
    }

    var isEmpty: Bool {
        !needsCatchUp && nodesDown.isEmpty && presence.isEmpty && !bansChanged && !accountsChanged && !relays
            && rooms.isEmpty
            && !allRooms
    }

    private var entries: Int { nodesDown.count + presence.count + rooms.count }

    /// Adds one ring; returns false when it was merged into one already waiting (or ignored as not for this
    /// node), true when it added something to do.
    @discardableResult
    mutating func add(_ notification: ClusterNotification) -> Bool {
        if needsCatchUp { return false }
        switch notification {
        case .roomLines(_, _, let listed, let hints):
            guard let listed else {
                defer { allRooms = true }
                return !allRooms
            }
            var added = false
            for (index, room) in listed.enumerated() {
                let hint = hints.flatMap { index < $0.count ? $0[index] : nil } ?? Self.unknownSequence
                if let known = rooms[room] {
                    rooms[room] = max(known, hint)
                } else {
                    guard makeRoom() else { return true }
                    rooms[room] = hint
                    added = true
                }
            }
            return added
        case .presence(let nameKey, let changedOn):
            guard changedOn != node else { return false }
            let key = PresenceKey(nameKey: nameKey, node: changedOn)
            if presence.contains(key) { return false }
            guard makeRoom() else { return true }
            presence.insert(key)
            return true
        case .nodeDown(let downNode, let incarnation):
            if nodesDown[downNode] == incarnation { return false }
            if nodesDown[downNode] == nil, !makeRoom() { return true }
            // A later incarnation's departure (or an earlier one's) is a different event; keep the newest ring.
            nodesDown[downNode] = incarnation
            return true
        case .bansChanged:
            defer { bansChanged = true }
            return !bansChanged
        case .accountsChanged:
            defer { accountsChanged = true }
            return !accountsChanged
        case .relays(let target):
            guard target == node else { return false }
            defer { relays = true }
            return !relays
        }
    }

    /// Whether one more distinct entry fits; if not, everything waiting becomes one catch-up.
    private mutating func makeRoom() -> Bool {
        guard entries >= Self.limit else { return true }
        self = DoorbellBacklog(node: node)
        needsCatchUp = true
        return false
    }

    /// Everything waiting, as steps in order, leaving the backlog empty; nil when there is nothing.
    mutating func take() -> [Step]? {
        guard !isEmpty else { return nil }
        defer { self = DoorbellBacklog(node: node) }
        if needsCatchUp { return [.catchUp] }
        var steps: [Step] = []
        for (downNode, incarnation) in nodesDown.sorted(by: { $0.key < $1.key }) {
            steps.append(.notification(.nodeDown(node: downNode, incarnation: incarnation)))
        }
        for key in presence.sorted(by: { ($0.node, $0.nameKey) < ($1.node, $1.nameKey) }) {
            steps.append(.notification(.presence(nameKey: key.nameKey, node: key.node)))
        }
        if bansChanged { steps.append(.notification(.bansChanged)) }
        if accountsChanged { steps.append(.notification(.accountsChanged)) }
        if relays { steps.append(.notification(.relays(node: node))) }
        if allRooms {
            steps.append(
                .notification(.roomLines(node: "", committedAtMilliseconds: nil, rooms: nil, lastSequences: nil)))
        } else if !rooms.isEmpty {
            let ordered = rooms.sorted { $0.key.value < $1.key.value }
            steps.append(
                .notification(
                    .roomLines(
                        node: "", committedAtMilliseconds: nil, rooms: ordered.map(\.key),
                        lastSequences: ordered.map(\.value))))
        }
        return steps
    }
}
