import NIOConcurrencyHelpers
import NIOCore

/// Limits how often one address may open new connections, so a single host cannot keep the event loops busy
/// with TLS handshakes (key exchange and signatures) by connecting and dropping in a loop. The per-address
/// cap counts open connections; this counts new ones.
///
/// Memory is bounded: at most `maximumTrackedAddresses` buckets; buckets idle long enough to be full again
/// are dropped first, and if every slot is busy a newcomer is admitted untracked (the global connection cap
/// still applies), so the table can never be used to lock others out.
public final class AcceptThrottle: Sendable {
    private struct Entry {
        var limiter: RateLimiter
        var lastSeen: NIODeadline
    }

    public let ratePerSecond: Double
    public let burst: Int
    public let maximumTrackedAddresses: Int
    private let entries = NIOLockedValueBox([String: Entry]())

    /// `ratePerSecond` 0 turns the throttle off.
    public init(ratePerSecond: Double, burst: Int, maximumTrackedAddresses: Int = 65_536) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.maximumTrackedAddresses = max(1, maximumTrackedAddresses)
    }

    public var isEnabled: Bool { ratePerSecond > 0 }

    /// Whether `address` (a limiter key: IPv4, or an IPv6 /64) may open a connection now.
    public func admit(address: String, now: NIODeadline) -> Bool {
        guard isEnabled else { return true }
        // A bucket untouched this long has refilled completely: forgetting it changes nothing.
        let refillTime = TimeAmount.nanoseconds(Int64(Double(burst) / ratePerSecond * 1e9))
        return entries.withLockedValue { table in
            if table[address] == nil, table.count >= maximumTrackedAddresses {
                table = table.filter { now - $0.value.lastSeen < refillTime }
                if table.count >= maximumTrackedAddresses { return true }
            }
            var entry = table[address]
                ?? Entry(limiter: RateLimiter(ratePerSecond: ratePerSecond, burst: burst), lastSeen: now)
            let admitted = entry.limiter.admit(now: now)
            entry.lastSeen = now
            table[address] = entry
            return admitted
        }
    }

    /// Addresses with a bucket (for tests and metrics).
    public var trackedAddresses: Int {
        entries.withLockedValue { $0.count }
    }
}
