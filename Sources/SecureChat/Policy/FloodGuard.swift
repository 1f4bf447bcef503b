import NIOCore

/// Counts a client's refused lines and says when it is flooding: `maxRefusals` refusals within `window`.
///
/// Memory is bounded by `maxRefusals` timestamps per client, and nothing is allocated until the first refusal, so
/// well-behaved clients cost nothing. The window is exact (a ring of the last `maxRefusals` refusal times), not
/// bucketed, so the rule reads the same way in the code, the README and the tests.
public struct FloodGuard: Sendable {
    /// Refusals within `window` that disconnect the client; `0` (or less) never disconnects.
    public let maxRefusals: Int
    /// The length of the sliding window.
    public let window: TimeAmount

    /// The most recent refusal times, at most `maxRefusals`; once full, used as a ring starting at `oldestIndex`.
    private var recent: [NIODeadline] = []
    private var oldestIndex = 0

    /// - Parameters:
    ///   - maxRefusals: how many refusals inside `window` disconnect; `0` turns flood disconnection off.
    ///   - window: the sliding window the refusals must fall into.
    public init(maxRefusals: Int = 20, window: TimeAmount = .seconds(10)) {
        self.maxRefusals = max(maxRefusals, 0)
        self.window = window
    }

    /// Records one refused line.
    /// - Parameter now: the current monotonic time.
    /// - Returns: `true` when this refusal is the `maxRefusals`-th (or later) within the window: disconnect.
    public mutating func recordRefusal(now: NIODeadline) -> Bool {
        guard self.maxRefusals > 0 else { return false }
        if self.recent.count < self.maxRefusals {
            if self.recent.isEmpty {
                // Not `maxRefusals` itself: an operator's `--flood-refusals 9223372036854775807` would make the
                // first refusal ask for an impossible allocation. The ring grows by appending to its bound.
                self.recent.reserveCapacity(min(self.maxRefusals, 64))
            }
            self.recent.append(now)
            guard self.recent.count == self.maxRefusals else { return false }
            return now - self.recent[0] < self.window
        }
        // Full ring: overwrite the oldest; the next one becomes the oldest of the last `maxRefusals`.
        self.recent[self.oldestIndex] = now
        self.oldestIndex = (self.oldestIndex + 1) % self.maxRefusals
        return now - self.recent[self.oldestIndex] < self.window
    }

    /// How many timestamps are stored; never more than `maxRefusals` (exposed so tests can check the bound).
    var storedRefusalCount: Int { self.recent.count }
}
