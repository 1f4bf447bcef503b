/// Which sequence numbers of one sender's stream have arrived, and in what order: the core that
/// ``StreamCheck`` (a known count) and ``SequenceTracker`` (open-ended) share. Each of them decides which
/// numbers are sensible before handing them here, so this only ever sees non-negative ones.
///
/// Arrivals are remembered in a bitset, one bit per sequence number, so a duplicate is told apart from a line
/// that merely came late; it grows with the highest number recorded.
struct ArrivalLog: Sendable, Equatable {
    /// The sequence number the next in-order arrival must carry.
    private(set) var nextInOrder = 0
    /// Distinct sequence numbers recorded.
    private(set) var unique = 0
    /// Arrivals of a number already recorded (each extra copy counts).
    private(set) var duplicates = 0
    /// Arrivals with a number other than the next in-order one (duplicates not counted).
    private(set) var outOfOrder = 0
    private var seen: [UInt64]

    /// - Parameter capacity: sequence numbers to make room for up front, so that a stream of known length
    ///   never reallocates while it is checked.
    init(capacity: Int = 0) {
        seen = Array(repeating: 0, count: (capacity + 63) / 64)
    }

    /// Records one arrival of `sequence` (non-negative).
    mutating func record(_ sequence: Int) {
        precondition(sequence >= 0, "the caller filters out negative sequence numbers")
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

    /// Distinct sequence numbers recorded in `0..<count`.
    func uniqueBelow(_ count: Int) -> Int {
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
}
