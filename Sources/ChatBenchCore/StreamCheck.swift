/// Checks one sender's stream as seen by one receiver: every expected message exactly once, in order.
///
/// Sequence numbers run from 0 to `expected - 1`; the bookkeeping of what arrived is an ``ArrivalLog``, sized
/// for `expected` up front. Numbers outside that range are counted apart and not recorded.
public struct StreamCheck: Sendable {
    /// Messages the sender sends in all.
    public let expected: Int
    /// Sequence numbers outside `0..<expected`.
    public private(set) var outOfRange = 0
    private var log: ArrivalLog

    public init(expected: Int) {
        precondition(expected >= 0)
        self.expected = expected
        self.log = ArrivalLog(capacity: expected)
    }

    /// The sequence number the next in-order message must carry.
    public var nextInOrder: Int { log.nextInOrder }
    /// Distinct messages received.
    public var unique: Int { log.unique }
    /// Messages received more than once (each extra copy counts).
    public var duplicates: Int { log.duplicates }
    /// Messages that arrived with a sequence number other than the next in-order one (not counting duplicates).
    public var outOfOrder: Int { log.outOfOrder }
    /// Expected messages that have not arrived.
    public var missing: Int { expected - unique }

    /// Records one arrival.
    public mutating func record(_ sequence: Int) {
        guard sequence >= 0, sequence < expected else {
            outOfRange += 1
            return
        }
        log.record(sequence)
    }
}
