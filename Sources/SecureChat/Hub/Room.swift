/// One room: who is in it, and what was said there lately.
struct Room {
    let name: RoomName
    /// Members and their outboxes, so a fan-out touches nothing but this dictionary.
    var members: [ConnectionID: any ClientOutbox] = [:]
    var history: History

    init(name: RoomName, historyCapacity: Int) {
        self.name = name
        self.history = History(capacity: historyCapacity)
    }
}
