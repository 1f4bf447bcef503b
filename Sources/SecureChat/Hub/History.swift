import NIOCore

/// A room's recent events (chat and join/leave notices, never DMs), bounded by count and by bytes.
///
/// Appending is O(1) (amortised over the lines it lets go) and never grows storage past `capacity` lines or
/// `byteCapacity` bytes: the 51st line of a 50-line history lets the oldest go, and so does a line that takes the
/// history past its bytes. The hub bounds all rooms' histories together too (`Hub.storeInHistory`).
public struct History: Sendable {
    /// An event, not its rendering: a newcomer gets it in their own format. Its size is that of its line-protocol
    /// rendering, the unit every history bound is stated in.
    public struct Entry: Sendable, Equatable {
        public let time: Timestamp
        public let event: ChatEvent
        /// The size of the line-protocol rendering, terminator included.
        public let lineBytes: Int

        init(time: Timestamp, event: ChatEvent, lineBytes: Int) {
            self.time = time
            self.event = event
            self.lineBytes = lineBytes
        }

        /// A line rendered elsewhere (a cluster row), kept as it is.
        public init(time: Timestamp, line: ByteBuffer) {
            self.init(time: time, event: .preformatted(line), lineBytes: line.readableBytes)
        }

        /// The line exactly as it was delivered live, terminator included.
        public var line: ByteBuffer { LineRenderer.render(event) }
    }

    public let capacity: Int
    /// Most bytes of lines kept (`Int.max`: no bound but `capacity`).
    public let byteCapacity: Int
    private var storage = CircularBuffer<Entry>()
    /// The bytes of the lines kept.
    public private(set) var bytes = 0

    public init(capacity: Int, byteCapacity: Int = .max) {
        precondition(capacity >= 0 && byteCapacity >= 0)
        self.capacity = capacity
        self.byteCapacity = byteCapacity
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    /// Appends `entry`, then lets the oldest lines go while the history is over either bound (the new line
    /// too, if it alone is over `byteCapacity`). Returns how many lines went.
    @discardableResult
    public mutating func append(_ entry: Entry) -> Int {
        guard capacity > 0 else { return 1 }
        storage.append(entry)
        bytes += entry.lineBytes
        var removed = 0
        while storage.count > capacity || bytes > byteCapacity, removeOldest() != nil { removed += 1 }
        return removed
    }

    /// Lets the oldest line go; returns its size in bytes, or nil if there is none.
    @discardableResult
    public mutating func removeOldest() -> Int? {
        guard let oldest = storage.popFirst() else { return nil }
        bytes -= oldest.lineBytes
        return oldest.lineBytes
    }

    /// Calls `body` for each entry, oldest first.
    public func forEach(_ body: (Entry) throws -> Void) rethrows {
        for entry in storage { try body(entry) }
    }

    /// The entries, oldest first.
    public var entries: [Entry] { Array(storage) }
}
