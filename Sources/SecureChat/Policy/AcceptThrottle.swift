import NIOConcurrencyHelpers
import NIOCore

/// Limits how often one address may open new connections, so a single host cannot keep the event loops busy
/// with TLS handshakes (key exchange and signatures) by connecting and dropping in a loop. The per-address
/// cap counts open connections; this counts new ones.
///
/// Memory is bounded at `maximumTrackedAddresses` buckets, and the bound fails closed: when the table is full,
/// the least recently seen address's bucket is evicted in O(1) (`RecencyTable`) and the newcomer gets a bucket
/// of its own, so every address is always throttled. Nothing is copied or scanned under the shared lock. The
/// evicted address is the one that has connected least recently; to evict a bucket that is still throttling,
/// an attacker needs `maximumTrackedAddresses` other addresses (IPv6: /64s) connecting after it.
public final class AcceptThrottle: Sendable {
    public let ratePerSecond: Double
    public let burst: Int
    public let maximumTrackedAddresses: Int
    private let table: NIOLockedValueBox<RecencyTable<RateLimiter>>

    /// `ratePerSecond` 0 turns the throttle off.
    public init(ratePerSecond: Double, burst: Int, maximumTrackedAddresses: Int = 65_536) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.maximumTrackedAddresses = max(1, maximumTrackedAddresses)
        self.table = NIOLockedValueBox(RecencyTable(capacity: self.maximumTrackedAddresses))
    }

    public var isEnabled: Bool { ratePerSecond > 0 }

    /// Whether `address` (a limiter key: IPv4, or an IPv6 /64) may open a connection now.
    public func admit(address: String, now: NIODeadline) -> Bool {
        guard isEnabled else { return true }
        return table.withLockedValue { table in
            table.withValue(for: address, make: { RateLimiter(ratePerSecond: ratePerSecond, burst: burst) }) {
                $0.admit(now: now)
            }
        }
    }

    /// Addresses with a bucket (for tests and metrics).
    public var trackedAddresses: Int {
        table.withLockedValue { $0.count }
    }

    /// Buckets evicted to make room for new addresses since start (for metrics: a steady rise means the table
    /// is too small for the traffic, or someone is cycling through addresses).
    public var evictions: Int {
        table.withLockedValue { $0.evictions }
    }

    /// The tracked addresses from least to most recently seen (O(n): for tests).
    var addressesOldestFirst: [String] {
        table.withLockedValue { $0.keysOldestFirst }
    }
}
