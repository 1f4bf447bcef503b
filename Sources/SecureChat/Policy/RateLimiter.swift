import NIOCore

/// A token bucket for one client's input lines: `burst` lines at once, then `ratePerSecond` lines per second.
///
/// The bucket starts full. Time is passed in (a monotonic `NIODeadline`), never read here, so the owner decides
/// which clock to use and tests can drive it with a fake one.
///
/// It is implemented as a GCRA ("virtual scheduling"), which is exactly a token bucket but keeps one integer
/// deadline instead of a fractional token count: no floating-point drift, so "after one second, `rate` more
/// are admitted" holds exactly for every rate whose period is a whole number of nanoseconds.
public struct RateLimiter: Sendable {
    /// Lines per second once the burst is spent; `0` (or any value that is not positive and finite) means unlimited.
    public let ratePerSecond: Double
    /// Lines admitted back to back from a full bucket; values below 1 are treated as 1.
    public let burst: Int

    /// Nanoseconds per token, or `nil` when unlimited.
    private let emissionInterval: Int64?
    /// How far ahead of `now` the theoretical arrival time may run: `(burst - 1)` periods.
    private let tolerance: Int64
    /// Theoretical arrival time of the next line, in uptime nanoseconds; `nil` until the first line (full bucket).
    private var theoreticalArrival: Int64?

    /// Creates a full bucket.
    /// - Parameters:
    ///   - ratePerSecond: sustained lines per second; `0` turns limiting off.
    ///   - burst: the bucket size; clamped to at least 1 (and at most 1,000,000).
    public init(ratePerSecond: Double, burst: Int) {
        self.ratePerSecond = ratePerSecond
        self.burst = min(max(burst, 1), 1_000_000)
        if ratePerSecond > 0, ratePerSecond.isFinite {
            // Clamp the period so `burst * period` stays far from Int64 overflow (≤ 1e18 ns, about 31 years):
            // a limiter that slow is indistinguishable from "refuse after the burst" anyway.
            let maxInterval = 1e18 / Double(self.burst)
            let interval = min(1e9 / ratePerSecond, maxInterval)
            self.emissionInterval = max(1, Int64(interval))
        } else {
            self.emissionInterval = nil
        }
        self.tolerance = (self.emissionInterval ?? 0) * Int64(self.burst - 1)
    }

    /// Whether limiting is off (rate 0): every line is admitted.
    public var isUnlimited: Bool { self.emissionInterval == nil }

    /// Takes one token if there is one.
    /// - Parameter now: the current monotonic time. Going backwards is tolerated (treated as no time passing).
    /// - Returns: `true` if the line is admitted, `false` if it is over the limit (no token is taken then).
    public mutating func admit(now: NIODeadline) -> Bool {
        admit(cost: 1, now: now)
    }

    /// Takes `cost` tokens at once if the bucket holds them (a line's bytes, for a bucket of bytes). A cost
    /// above `burst` is charged as `burst`, so the largest item still passes a full bucket; below 1, as 1.
    /// - Returns: `true` if admitted, `false` if over the limit (no token is taken then).
    public mutating func admit(cost: Int, now: NIODeadline) -> Bool {
        guard let interval = self.emissionInterval else { return true }
        // `units * interval` stays within 1e18 (the period is clamped by the burst in `init`).
        let units = Int64(min(max(cost, 1), self.burst))
        let nowNanos = Int64(clamping: now.uptimeNanoseconds)
        // A bucket that has been idle refills up to full, never beyond: the arrival time never lags `now`.
        let arrival = max(self.theoreticalArrival ?? nowNanos, nowNanos)
        if arrival - nowNanos + (units - 1) * interval > self.tolerance {
            return false
        }
        self.theoreticalArrival = arrival + units * interval
        return true
    }
}
