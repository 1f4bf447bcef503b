import NIOCore

/// A fixed-capacity ring buffer of a room's recent lines (chat and join/leave notices, never DMs).
///
/// Appending is O(1) and never grows storage past `capacity`; the 51st line of a 50-line history overwrites
/// the oldest.
public struct History: Sendable {
    public struct Entry: Sendable, Equatable {
        public let time: Timestamp
        /// The line exactly as it was delivered live, terminator included.
        public let line: ByteBuffer

        public init(time: Timestamp, line: ByteBuffer) {
            self.time = time
            self.line = line
        }
    }

    public let capacity: Int
    private var storage: [Entry] = []
    private var oldest = 0

    public init(capacity: Int) {
        precondition(capacity >= 0)
        self.capacity = capacity
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public mutating func append(_ entry: Entry) {
        guard capacity > 0 else { return }
        if storage.count < capacity {
            if storage.isEmpty { storage.reserveCapacity(min(capacity, 64)) }
            storage.append(entry)
        } else {
            storage[oldest] = entry
            oldest = (oldest + 1) % capacity
        }
    }

    /// Calls `body` for each entry, oldest first.
    public func forEach(_ body: (Entry) throws -> Void) rethrows {
        for offset in 0..<storage.count {
            try body(storage[(oldest + offset) % storage.count])
        }
    }

    /// The entries, oldest first.
    public var entries: [Entry] {
        var result: [Entry] = []
        result.reserveCapacity(storage.count)
        forEach { result.append($0) }
        return result
    }
}
