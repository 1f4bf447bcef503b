/// The verdict of a fan-out run, summed over receivers: expected vs received, exactly-once, per-sender order.
public struct DeliveryTally: Sendable, Equatable, Codable {
    /// Deliveries that should happen: each message of each sender at every other client of the room.
    public var expected = 0
    /// Deliveries that happened (benchmark lines arriving at a client), duplicates included.
    public var received = 0
    /// Expected deliveries that never arrived.
    public var missing = 0
    /// Extra copies of a message at one client.
    public var duplicates = 0
    /// Messages that arrived at a client out of their sender's order.
    public var outOfOrder = 0
    /// Lines that looked like ours but named an unknown sender or sequence, or came back to their own sender.
    public var unexpected = 0

    public init() {}

    /// Every expected line arrived exactly once and in order, and nothing else did.
    public var isPerfect: Bool {
        missing == 0 && duplicates == 0 && outOfOrder == 0 && unexpected == 0 && received == expected
    }

    public mutating func add(_ other: DeliveryTally) {
        expected += other.expected
        received += other.received
        missing += other.missing
        duplicates += other.duplicates
        outOfOrder += other.outOfOrder
        unexpected += other.unexpected
    }
}

/// What one receiving client saw of every sender's stream.
public struct ReceiverLedger: Sendable {
    private var streams: [StreamCheck]
    /// This client's own sender index, if it sends: its own messages must not come back (no echo).
    public let ownSender: Int?
    private var received = 0
    private var unexpected = 0

    /// - Parameters:
    ///   - senders: how many clients send.
    ///   - messagesPerSender: messages each sends.
    ///   - ownSender: this client's sender index, if it is one of the senders.
    ///   - hears: which senders share this client's room (all of them by default); a line from any other
    ///     sender is unexpected.
    public init(
        senders: Int, messagesPerSender: Int, ownSender: Int?, hears: (Int) -> Bool = { _ in true }
    ) {
        self.streams = (0..<senders).map { StreamCheck(expected: hears($0) ? messagesPerSender : 0) }
        self.ownSender = ownSender
    }

    /// Records one arrival.
    public mutating func record(sender: Int, sequence: Int) {
        received += 1
        guard sender >= 0, sender < streams.count, sender != ownSender else {
            unexpected += 1
            return
        }
        streams[sender].record(sequence)
    }

    /// Deliveries this client has received so far.
    public var receivedCount: Int { received }

    /// Deliveries this client should receive in all.
    public var expectedCount: Int {
        streams.enumerated().reduce(0) { $0 + ($1.offset == ownSender ? 0 : $1.element.expected) }
    }

    public var tally: DeliveryTally {
        var tally = DeliveryTally()
        tally.expected = expectedCount
        tally.received = received
        tally.unexpected = unexpected
        for (index, stream) in streams.enumerated() where index != ownSender {
            tally.missing += stream.missing
            tally.duplicates += stream.duplicates
            tally.outOfOrder += stream.outOfOrder
            tally.unexpected += stream.outOfRange
        }
        return tally
    }
}
