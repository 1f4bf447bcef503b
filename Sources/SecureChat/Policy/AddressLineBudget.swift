import NIOConcurrencyHelpers
import NIOCore

/// What all the connections of one address may send together, after login: lines per second and bytes per
/// second, shared by the address (an IPv4 address, an IPv6 /64) and, at `networkFactor` times that, by its IPv6
/// /48. One address may hold many connections, each within its own rate limit; together they could still push
/// a victim's outbox over its limit. Bytes are counted after sanitising, which is what recipients receive: an
/// invalid byte becomes a three-byte U+FFFD.
///
/// Thread-safe behind one lock, taken once per line; at most `capacity` networks are tracked, and when full
/// the least recently seen is forgotten (it starts again with a full budget).
public final class AddressLineBudget: Sendable {
    /// How much wider the budget of an IPv6 /48 is than that of one of its /64s.
    public static let networkFactor = 4
    /// Seconds of sending at the full rate that a budget allows at once.
    public static let burstSeconds = 2.0
    public static let defaultCapacity = 65_536

    private struct Buckets: Sendable {
        var lines: RateLimiter
        var bytes: RateLimiter
    }

    public let linesPerSecond: Double
    public let bytesPerSecond: Double
    private let table: NIOLockedValueBox<RecencyTable<Buckets>>

    /// - Parameters:
    ///   - linesPerSecond: lines per second one address may send, all its connections together; 0 is no limit.
    ///   - bytesPerSecond: bytes (after sanitising) per second; 0 is no limit.
    public init(linesPerSecond: Double, bytesPerSecond: Double, capacity: Int = defaultCapacity) {
        self.linesPerSecond = linesPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.table = NIOLockedValueBox(RecencyTable(capacity: capacity))
    }

    /// Whether neither limit is on.
    public var isUnlimited: Bool { !(linesPerSecond > 0) && !(bytesPerSecond > 0) }

    /// The keys a connection from `address` (as `ClientInfo.address` holds it) is charged under: its address
    /// (IPv6: its /64) and, for IPv6, its /48. Computed once per connection.
    public static func keys(for address: String) -> [String] {
        guard let ip = IPAddress(address) else { return [address] }
        let host = IPNetwork(host: ip)
        guard ip.family == .ipv6 else { return [host.description] }
        return [host.description, host.widened(toPrefixLength: 48).description]
    }

    /// Charges one line of `bytes` bytes to every key; false (and the line is refused) if any budget is spent.
    /// The first key is the address, the others are its wider networks.
    public func admit(keys: [String], bytes: Int, now: NIODeadline) -> Bool {
        if isUnlimited { return true }
        return table.withLockedValue { table in
            for (index, key) in keys.enumerated() {
                let factor = index == 0 ? 1.0 : Double(Self.networkFactor)
                let admitted = table.withValue(for: key, make: { makeBuckets(factor: factor) }) { buckets in
                    guard buckets.lines.admit(now: now) else { return false }
                    return buckets.bytes.admit(cost: bytes, now: now)
                }
                if !admitted { return false }
            }
            return true
        }
    }

    private func makeBuckets(factor: Double) -> Buckets {
        func bucket(_ rate: Double) -> RateLimiter {
            let perSecond = rate > 0 && rate.isFinite ? rate * factor : 0
            let burst = perSecond > 0 ? Int(min(perSecond * Self.burstSeconds, 1e9).rounded(.up)) : 1
            return RateLimiter(ratePerSecond: perSecond, burst: burst)
        }
        return Buckets(lines: bucket(linesPerSecond), bytes: bucket(bytesPerSecond))
    }
}
