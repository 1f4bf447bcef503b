import NIOConcurrencyHelpers
import NIOCore

/// Limits how often one address may open new connections, so a single host cannot keep the event loops busy
/// with TLS handshakes (key exchange and signatures) by connecting and dropping in a loop. The per-address
/// cap counts open connections; this counts new ones.
///
/// An IPv6 client is counted under its /64 and also under its /48, at a rate of its own
/// (`networkRatePerSecond`, `networkBurst`): whoever holds a /48 holds 65,536 /64s, and would otherwise get
/// 65,536 times the rate by rotating through them. IPv4 addresses have no wider bucket.
///
/// Memory is bounded at `maximumTrackedAddresses` buckets per table (addresses, /48s), and the bound fails
/// closed: when a table is full, the least recently seen key's bucket is evicted in O(1) (`RecencyTable`) and
/// the newcomer gets a bucket of its own, so every address is always throttled. Nothing is copied or scanned
/// under the shared lock. The evicted key is the one that has connected least recently; to evict a bucket that
/// is still throttling, an attacker needs `maximumTrackedAddresses` other keys connecting after it.
public final class AcceptThrottle: Sendable {
    public let ratePerSecond: Double
    public let burst: Int
    /// The rate and burst of an IPv6 /48; a rate of 0 turns that bucket off.
    public let networkRatePerSecond: Double
    public let networkBurst: Int
    public let maximumTrackedAddresses: Int

    private struct Tables {
        var addresses: RecencyTable<RateLimiter>
        var networks: RecencyTable<RateLimiter>
    }

    private let tables: NIOLockedValueBox<Tables>

    /// The /48's rate and burst by default: four hosts' worth of the address's.
    public static let defaultNetworkMultiple = 4

    /// `ratePerSecond` 0 turns the throttle off (both buckets). `networkRatePerSecond` and `networkBurst`
    /// default to `defaultNetworkMultiple` times the address's.
    public init(
        ratePerSecond: Double,
        burst: Int,
        networkRatePerSecond: Double? = nil,
        networkBurst: Int? = nil,
        maximumTrackedAddresses: Int = 65_536
    ) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        let multiple = Self.defaultNetworkMultiple
        self.networkRatePerSecond = networkRatePerSecond ?? ratePerSecond * Double(multiple)
        self.networkBurst = max(1, networkBurst ?? min(self.burst, Int.max / multiple) * multiple)
        self.maximumTrackedAddresses = max(1, maximumTrackedAddresses)
        self.tables = NIOLockedValueBox(
            Tables(
                addresses: RecencyTable(capacity: self.maximumTrackedAddresses),
                networks: RecencyTable(capacity: self.maximumTrackedAddresses)
            )
        )
    }

    public var isEnabled: Bool { ratePerSecond > 0 }

    /// Whether `address` (a limiter key: IPv4, or an IPv6 /64) may open a connection now. An IPv6 key is also
    /// charged to its /48; a refusal by either refuses the connection.
    public func admit(address: String, now: NIODeadline) -> Bool {
        guard isEnabled else { return true }
        // Parsed outside the lock; IPv4 and opaque keys return nil at once.
        let network = networkRatePerSecond > 0 ? ConnectionLimiter.networkKey(forAddressKey: address) : nil
        return tables.withLockedValue { tables in
            let addressAdmitted = tables.addresses.withValue(
                for: address, make: { RateLimiter(ratePerSecond: ratePerSecond, burst: burst) }
            ) { $0.admit(now: now) }
            guard addressAdmitted, let network else { return addressAdmitted }
            return tables.networks.withValue(
                for: network, make: { RateLimiter(ratePerSecond: networkRatePerSecond, burst: networkBurst) }
            ) { $0.admit(now: now) }
        }
    }

    /// Addresses with a bucket (for tests and metrics).
    public var trackedAddresses: Int {
        tables.withLockedValue { $0.addresses.count }
    }

    /// IPv6 /48s with a bucket (for tests and metrics).
    public var trackedNetworks: Int {
        tables.withLockedValue { $0.networks.count }
    }

    /// Buckets evicted to make room for new addresses since start (for metrics: a steady rise means the table
    /// is too small for the traffic, or someone is cycling through addresses).
    public var evictions: Int {
        tables.withLockedValue { $0.addresses.evictions }
    }

    /// As ``evictions``, for the IPv6 /48 buckets.
    public var networkEvictions: Int {
        tables.withLockedValue { $0.networks.evictions }
    }

    /// The tracked addresses from least to most recently seen (O(n): for tests).
    var addressesOldestFirst: [String] {
        tables.withLockedValue { $0.addresses.keysOldestFirst }
    }
}
