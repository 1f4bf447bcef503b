/// One room: who is in it, and what was said there lately.
struct Room {
    let name: RoomName
    /// Members and their outboxes, so a fan-out touches nothing but this dictionary.
    var members: [ConnectionID: any ClientOutbox] = [:]
    /// The same members in name order, for `/users`.
    var names = SortedNameIndex()
    var history: History

    init(name: RoomName, historyCapacity: Int) {
        self.name = name
        self.history = History(capacity: historyCapacity)
    }
}
