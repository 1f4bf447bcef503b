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

    /// Stores an entry in a room's history, within the room's bounds and within `historyBytesTotal` for all
    /// rooms together (on a cluster's node: all the rooms it follows): past it, the oldest lines of any room go
    /// first. The entry's `lineBytes`, the size of its line rendering, is the unit of every bound.
    func storeInHistory(_ entry: History.Entry, in name: RoomName) {
        guard rooms[name] != nil else { return }
        let lineBytes = entry.lineBytes
        let bytesBefore = rooms[name]!.history.bytes
        let removed = rooms[name]!.history.append(entry)
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
