/// Checks one sender's stream as one receiver sees it when the receiver does not know in advance how many
/// lines the sender will send (the soak: senders run until told to stop). Sequence numbers start at 0.
///
/// Arrivals are remembered in a bitset that grows with the highest sequence number seen, so a duplicate is
/// told apart from a line that merely came late. The verdict is taken once the sender's final count is
/// known: ``verdict(sent:)``.
public struct SequenceTracker: Sendable, Equatable {
    /// The sequence number the next in-order line must carry.
    public private(set) var nextInOrder = 0
    /// Distinct sequence numbers received.
    public private(set) var unique = 0
    /// Lines received more than once (each extra copy counts).
    public private(set) var duplicates = 0
    /// Lines that arrived with a sequence number other than the next in-order one (duplicates not counted).
    public private(set) var outOfOrder = 0
    /// Negative sequence numbers, or absurdly large ones (never sent by a chatbench sender).
    public private(set) var invalid = 0
    private var seen: [UInt64] = []

    /// Sequence numbers at or above this are refused as invalid, so a corrupted line cannot make the
    /// bitset allocate gigabytes (a soak sender sends a few lines a second).
    public static let limit = 1 << 24

    public init() {}

    /// Records one arrival.
    public mutating func record(_ sequence: Int) {
        guard sequence >= 0, sequence < Self.limit else {
            invalid += 1
            return
        }
        let word = sequence >> 6
        if word >= seen.count {
            seen.append(contentsOf: repeatElement(0, count: word + 1 - seen.count))
        }
        let bit = UInt64(1) << UInt64(sequence & 63)
        if seen[word] & bit != 0 {
            duplicates += 1
            return
        }
        seen[word] |= bit
        unique += 1
        if sequence == nextInOrder {
            nextInOrder += 1
        } else {
            outOfOrder += 1
            nextInOrder = sequence + 1
        }
    }

    /// Distinct sequence numbers received in `0..<count`.
    public func uniqueBelow(_ count: Int) -> Int {
        guard count > 0 else { return 0 }
        var total = 0
        let fullWords = min(count >> 6, seen.count)
        for index in 0..<fullWords {
            total += seen[index].nonzeroBitCount
        }
        let rest = count & 63
        if rest > 0, fullWords < seen.count, fullWords == count >> 6 {
            total += (seen[fullWords] & ((UInt64(1) << UInt64(rest)) - 1)).nonzeroBitCount
        }
        return total
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
