/// Checks one sender's stream as seen by one receiver: every expected message exactly once, in order.
///
/// Sequence numbers run from 0 to `expected - 1`. A bitset remembers which arrived, so a duplicate is told
/// apart from a message that merely came out of order.
public struct StreamCheck: Sendable {
    /// Messages the sender sends in all.
    public let expected: Int
    /// The sequence number the next in-order message must carry.
    public private(set) var nextInOrder = 0
    /// Distinct messages received.
    public private(set) var unique = 0
    /// Messages received more than once (each extra copy counts).
    public private(set) var duplicates = 0
    /// Messages that arrived with a sequence number other than the next in-order one (not counting duplicates).
    public private(set) var outOfOrder = 0
    /// Sequence numbers outside `0..<expected`.
    public private(set) var outOfRange = 0
    private var seen: [UInt64]

    public init(expected: Int) {
        precondition(expected >= 0)
        self.expected = expected
        self.seen = Array(repeating: 0, count: (expected + 63) / 64)
    }

    /// Records one arrival.
    public mutating func record(_ sequence: Int) {
        guard sequence >= 0, sequence < expected else {
            outOfRange += 1
            return
        }
        let word = sequence >> 6
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

    /// Expected messages that have not arrived.
    public var missing: Int { expected - unique }
}
