import NIOCore

/// What rooms and history may take: new rooms per address, and history bytes in all rooms together.
extension Hub {
    /// Charges one new room to the member's address (IPv6: its /64): `roomCreationBurst` at once, then
    /// `roomsCreatedPerMinute`. False when the address has opened too many lately.
    func chargeRoomCreation(by member: Member) -> Bool {
        guard let key = AddressLineBudget.keys(for: member.info.address).first else { return true }
        let (burst, perMinute) = (configuration.roomCreationBurst, configuration.roomsCreatedPerMinute)
        return roomCreation.withValue(
            for: key, make: { RateLimiter(ratePerSecond: perMinute / 60, burst: burst) }
        ) { $0.admit(now: .now()) }
    }

    /// Stores an event in a room's history, within the room's bounds and, on a single node, within
    /// `historyBytesTotal` for all rooms together: past it, the oldest lines of any room go first. `lineBytes` is
    /// the size of its line rendering, the unit of every bound.
    func storeInHistory(_ event: ChatEvent, lineBytes: Int, in name: RoomName) {
        guard rooms[name] != nil else { return }
        let bytesBefore = rooms[name]!.history.bytes
        let removed = rooms[name]!.history.append(.init(time: .now(), event: event, lineBytes: lineBytes))
        guard cluster == nil else { return }
        let room = rooms[name]!
        let isLive = { (slot: HistoryBudget.Slot) in self.rooms[slot.room]?.generation == slot.generation }
        historyBudget.stored(
            in: room, lineBytes: lineBytes, removed: removed,
            removedBytes: bytesBefore + lineBytes - room.history.bytes, isLive: isLive
        )
        while let slot = historyBudget.nextToLetGo(isLive: isLive) {
            guard let size = rooms[slot.room]?.history.removeOldest() else { break }
            historyBudget.letGo(lineBytes: size)
        }
    }
}
