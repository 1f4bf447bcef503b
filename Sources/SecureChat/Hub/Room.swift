/// One room: who is in it, and what was said there lately.
struct Room {
    let name: RoomName
    /// Members of this node and their outboxes, so a fan-out touches nothing but this dictionary.
    private(set) var members: [ConnectionID: any ClientOutbox] = [:]
    /// How many of `members` speak JSON: a fan-out asks each recipient its format only in a room where some do,
    /// so a room of terminal users costs what it cost before formats existed.
    private(set) var jsonMembers = 0
    /// Members of other nodes (`--cluster`): listed and counted here, reached by their own node.
    var remoteMembers: Set<ConnectionID> = []
    /// All members in name order, for `/users`.
    var names = SortedNameIndex()
    var history: History
    /// In a cluster, the sequence number of the last line delivered here: a line at or below it is a
    /// duplicate, one past `lastSequence + 1` means lines went missing.
    var lastSequence: Int64 = 0
    /// Which opening of a room of this name this is, for the hub's queue of history lines (`HistoryBudget`).
    var generation: UInt64 = 0

    init(name: RoomName, historyCapacity: Int, historyByteCapacity: Int = .max) {
        self.name = name
        self.history = History(capacity: historyCapacity, byteCapacity: historyByteCapacity)
    }

    mutating func addMember(_ id: ConnectionID, _ outbox: any ClientOutbox) {
        if members.updateValue(outbox, forKey: id) == nil, outbox.format == .json { jsonMembers += 1 }
    }

    mutating func removeMember(_ id: ConnectionID) {
        if let outbox = members.removeValue(forKey: id), outbox.format == .json { jsonMembers -= 1 }
    }

    /// Everyone in the room, on every node.
    var population: Int { members.count + remoteMembers.count }
}
