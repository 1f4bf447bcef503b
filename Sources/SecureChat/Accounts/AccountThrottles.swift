import NIOConcurrencyHelpers
import NIOCore

/// The token buckets of password attempts and registrations.
///
/// Log-ins are throttled per account and address together, and per address, never per account alone: a limit on
/// the account alone would let anyone lock its owner out by guessing. Each table keeps the most recently used
/// entries only (`capacity`), so a flood of addresses costs bounded memory; an address pushed out starts with a
/// full bucket again, which the per-address burst bounds.
final class AccountThrottles: Sendable {
    static let capacity = 65_536

    private struct Tables {
        var pairs = RecencyTable<RateLimiter>(capacity: AccountThrottles.capacity)
        var addresses = RecencyTable<RateLimiter>(capacity: AccountThrottles.capacity)
        var registrations = RecencyTable<RateLimiter>(capacity: AccountThrottles.capacity)
        var overall: RateLimiter
    }

    private let limits: AccountLimits
    private let tables: NIOLockedValueBox<Tables>

    init(limits: AccountLimits) {
        self.limits = limits
        self.tables = NIOLockedValueBox(
            Tables(
                overall: RateLimiter(
                    ratePerSecond: limits.registrationsOverall.perSecond, burst: limits.registrationsOverall.burst)))
    }

    /// The key an address is counted under: IPv4 whole, IPv6 by its /64 (one subscriber's usual share).
    static func addressKey(_ address: String) -> String {
        IPAddress(address).map { IPNetwork(host: $0).description } ?? address
    }

    /// Takes a password attempt for `accountKey` from `address`; false when either bucket is empty (then
    /// neither is charged).
    func admitAttempt(accountKey: String, address: String, now: NIODeadline = .now()) -> Bool {
        let addressKey = Self.addressKey(address)
        return tables.withLockedValue { tables in
            let pair = limits.attemptsPerAccountAndAddress
            let single = limits.attemptsPerAddress
            var pairBucket = tables.pairs.withValue(
                for: accountKey + " " + addressKey,
                make: { RateLimiter(ratePerSecond: pair.perSecond, burst: pair.burst) }
            ) { $0 }
            var addressBucket = tables.addresses.withValue(
                for: addressKey, make: { RateLimiter(ratePerSecond: single.perSecond, burst: single.burst) }
            ) { $0 }
            guard pairBucket.admit(now: now), addressBucket.admit(now: now) else { return false }
            tables.pairs.withValue(for: accountKey + " " + addressKey, make: { pairBucket }) { $0 = pairBucket }
            tables.addresses.withValue(for: addressKey, make: { addressBucket }) { $0 = addressBucket }
            return true
        }
    }

    /// Takes a registration from `address`; false when its bucket or the server's is empty.
    func admitRegistration(address: String, now: NIODeadline = .now()) -> Bool {
        let addressKey = Self.addressKey(address)
        return tables.withLockedValue { tables in
            let perAddress = limits.registrationsPerAddress
            var bucket = tables.registrations.withValue(
                for: addressKey, make: { RateLimiter(ratePerSecond: perAddress.perSecond, burst: perAddress.burst) }
            ) { $0 }
            var overall = tables.overall
            guard bucket.admit(now: now), overall.admit(now: now) else { return false }
            tables.registrations.withValue(for: addressKey, make: { bucket }) { $0 = bucket }
            tables.overall = overall
            return true
        }
    }
}
