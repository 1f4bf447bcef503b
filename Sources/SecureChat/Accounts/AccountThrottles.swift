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

    /// Whether `address` may try a password for `accountKey` now: both buckets hold a token. Nothing is taken:
    /// only failures are charged (`failed`), so a right password never uses up anyone's allowance, and a crowd
    /// behind one NAT logging in after a restart is not throttled for succeeding.
    func mayAttempt(accountKey: String, address: String, now: NIODeadline = .now()) -> Bool {
        let addressKey = Self.addressKey(address)
        return tables.withLockedValue { tables in
            var pair = tables.pairs.withValue(for: accountKey + " " + addressKey, make: makePair) { $0 }
            var single = tables.addresses.withValue(for: addressKey, make: makeSingle) { $0 }
            return pair.admit(now: now) && single.admit(now: now)
        }
    }

    /// Charges a wrong password to both buckets.
    func failed(accountKey: String, address: String, now: NIODeadline = .now()) {
        let addressKey = Self.addressKey(address)
        tables.withLockedValue { tables in
            _ = tables.pairs.withValue(for: accountKey + " " + addressKey, make: makePair) { $0.admit(now: now) }
            _ = tables.addresses.withValue(for: addressKey, make: makeSingle) { $0.admit(now: now) }
        }
    }

    private func makePair() -> RateLimiter {
        RateLimiter(
            ratePerSecond: limits.attemptsPerAccountAndAddress.perSecond,
            burst: limits.attemptsPerAccountAndAddress.burst)
    }

    private func makeSingle() -> RateLimiter {
        RateLimiter(ratePerSecond: limits.attemptsPerAddress.perSecond, burst: limits.attemptsPerAddress.burst)
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
