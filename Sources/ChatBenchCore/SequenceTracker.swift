/// Checks one sender's stream as one receiver sees it when the receiver does not know in advance how many
/// lines the sender will send (the soak: senders run until told to stop). Sequence numbers start at 0.
///
/// The bookkeeping of what arrived is an ``ArrivalLog`` that grows with the highest sequence number seen; the
/// verdict is taken once the sender's final count is known: ``verdict(sent:)``.
public struct SequenceTracker: Sendable, Equatable {
    /// Negative sequence numbers, or absurdly large ones (never sent by a chatbench sender).
    public private(set) var invalid = 0
    private var log = ArrivalLog()

    /// Sequence numbers at or above this are refused as invalid, so a corrupted line cannot make the
    /// bitset allocate gigabytes (a soak sender sends a few lines a second).
    public static let limit = 1 << 24

    public init() {}

    /// The sequence number the next in-order line must carry.
    public var nextInOrder: Int { log.nextInOrder }
    /// Distinct sequence numbers received.
    public var unique: Int { log.unique }
    /// Lines received more than once (each extra copy counts).
    public var duplicates: Int { log.duplicates }
    /// Lines that arrived with a sequence number other than the next in-order one (duplicates not counted).
    public var outOfOrder: Int { log.outOfOrder }

    /// Records one arrival.
    public mutating func record(_ sequence: Int) {
        guard sequence >= 0, sequence < Self.limit else {
            invalid += 1
            return
        }
        log.record(sequence)
    }

    /// Distinct sequence numbers received in `0..<count`.
    public func uniqueBelow(_ count: Int) -> Int {
        log.uniqueBelow(count)
    }

    /// The stream judged against what the sender says it sent: lines `0..<sent` must each have arrived once,
    /// in order, and nothing else.
    public func verdict(sent: Int) -> DeliveryTally {
        var tally = DeliveryTally()
        let delivered = uniqueBelow(sent)
        tally.expected = sent
        tally.received = unique + duplicates + invalid
        tally.missing = sent - delivered
        tally.duplicates = duplicates
        tally.outOfOrder = outOfOrder
        // Lines numbered past what the sender sent, or not numbered sensibly at all: not ours to receive.
        tally.unexpected = (unique - delivered) + invalid
        return tally
    }
}
