import NIOCore

/// The bound on all rooms' history together: the bytes stored, and the order in which lines were stored, so
/// that past the bound the oldest lines of any room go first. (Each room also has its own bounds, in lines
/// and bytes; see `History`.)
///
/// The queue holds one entry per line stored, naming its room and the room's opening (`Room.generation`, so a
/// room closed and opened again is not confused with its old self). A room lets its own oldest lines go too
/// (its own bounds); those entries are still in the queue, ahead of the room's live ones, and are counted in
/// `stale` so that they are skipped. The queue is compacted when stale entries outnumber live ones, so its
/// size stays within twice the lines stored, plus a constant.
struct HistoryBudget {
    struct Slot {
        let room: RoomName
        let generation: UInt64
    }

    let byteCapacity: Int
    private(set) var bytes = 0
    private(set) var lines = 0
    private var queue = CircularBuffer<Slot>()
    /// Per room opening: queue entries whose lines the room already let go.
    private var stale: [Slot.Key: Int] = [:]
    private var lastGeneration: UInt64 = 0

    init(byteCapacity: Int) {
        self.byteCapacity = byteCapacity
    }

    /// Entries in the queue, live and stale (for tests: it stays within twice the lines stored, plus 64).
    var queuedCount: Int { queue.count }

    /// A generation for a room being opened.
    mutating func nextGeneration() -> UInt64 {
        lastGeneration &+= 1
        return lastGeneration
    }

    /// A line of `lineBytes` was appended to `room`, which then let `removed` lines (of `removedBytes`) go.
    /// `isLive` says whether a slot's room opening is still open.
    mutating func stored(
        in room: Room, lineBytes: Int, removed: Int, removedBytes: Int, isLive: (Slot) -> Bool
    ) {
        let slot = Slot(room: room.name, generation: room.generation)
        queue.append(slot)
        lines += 1 - removed
        bytes += lineBytes - removedBytes
        if removed > 0 { stale[slot.key, default: 0] += removed }
        if queue.count > 2 * lines + 64 { compact(isLive: isLive) }
    }

    /// A room closed, or dropped its history: its lines no longer count.
    mutating func discarded(_ room: Room) {
        lines -= room.history.count
        bytes -= room.history.bytes
        stale[Slot(room: room.name, generation: room.generation).key] = nil
    }

    /// The next line to let go to come back under the bound: its room and opening, or nil when within it.
    /// Call `letGo` with the room's answer.
    mutating func nextToLetGo(isLive: (Slot) -> Bool) -> Slot? {
        while bytes > byteCapacity, let slot = queue.popFirst() {
            guard isLive(slot) else { continue }
            if let count = stale[slot.key], count > 0 {
                stale[slot.key] = count == 1 ? nil : count - 1
                continue
            }
            return slot
        }
        return nil
    }

    /// The room let go of its oldest line, of `lineBytes` bytes, for the global bound.
    mutating func letGo(lineBytes: Int) {
        lines -= 1
        bytes -= lineBytes
    }

    /// Drops the stale entries and those of closed rooms from the queue.
    private mutating func compact(isLive: (Slot) -> Bool) {
        var remaining = stale
        var kept = CircularBuffer<Slot>(initialCapacity: queue.count)
        for slot in queue where isLive(slot) {
            if let count = remaining[slot.key], count > 0 {
                remaining[slot.key] = count - 1
                continue
            }
            kept.append(slot)
        }
        queue = kept
        stale = [:]
    }
}

extension HistoryBudget.Slot {
    struct Key: Hashable {
        let room: String
        let generation: UInt64
    }

    var key: Key { Key(room: room.key, generation: generation) }
}
