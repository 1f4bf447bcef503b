import NIOConcurrencyHelpers
import Synchronization

/// Caps the number of open connections, globally, per client address and per IPv6 /48, and counts what it
/// refuses.
///
/// Shared by every listener and event loop, so all state sits behind one lock; the critical sections are a
/// dictionary lookup or two and a few integer updates. The lock is NIO's (a pthread mutex), not
/// `Synchronization.Mutex`, whose futex ThreadSanitizer cannot see on Linux (it reports false races). The class
/// is `Sendable` without `@unchecked` because its only stored properties are `let`s of `Sendable` types.
///
/// Addresses are opaque strings; pass the client's IP without the port (see `addressKey(for:)`, which also
/// groups IPv6 clients by /64). An IPv6 key (`2001:db8:aa:bb::/64`) is also counted under its /48, so a
/// customer holding a /48 (65,536 /64s) cannot open `maxPerAddress` connections from each of them. Entries are
/// removed when their last connection is released, so the tables hold only addresses with open connections.
public final class ConnectionLimiter: Sendable {
    /// Why a connection was refused.
    public enum RefusalReason: Sendable, Hashable, CaseIterable {
        /// The global cap is reached.
        case serverFull
        /// The client's address already holds `maxPerAddress` connections, or its IPv6 /48 holds
        /// `maxPerIPv6Network` (to the client, its network is its address).
        case tooManyFromAddress
    }

    /// Counters for metrics and `/stats`.
    public struct Statistics: Sendable, Equatable {
        /// Connections currently admitted and not yet released.
        public var activeConnections: Int
        /// Addresses that currently hold at least one connection.
        public var trackedAddresses: Int
        /// Connections refused since start, by reason.
        public var refusals: [RefusalReason: Int]
        /// IPv6 /48 networks that currently hold at least one connection.
        public var trackedNetworks: Int
        /// Of `refusals[.tooManyFromAddress]`, those refused by the IPv6 /48 cap.
        public var refusedByNetworkCap: Int

        public init(
            activeConnections: Int,
            trackedAddresses: Int,
            refusals: [RefusalReason: Int],
            trackedNetworks: Int = 0,
            refusedByNetworkCap: Int = 0
        ) {
            self.activeConnections = activeConnections
            self.trackedAddresses = trackedAddresses
            self.refusals = refusals
            self.trackedNetworks = trackedNetworks
            self.refusedByNetworkCap = refusedByNetworkCap
        }
    }

    private struct State {
        var active = 0
        var perAddress: [String: Int] = [:]
        var perNetwork: [String: Int] = [:]
        var refusedServerFull = 0
        var refusedTooManyFromAddress = 0
        var refusedByNetworkCap = 0
    }

    /// The global cap; `0` (or less) means no global cap.
    public let maxConnections: Int
    /// The per-address cap; `0` (or less) means no per-address cap.
    public var maxPerAddress: Int { perAddressCap.load(ordering: .relaxed) }
    private let perAddressCap: Synchronization.Atomic<Int>
    /// The cap per IPv6 network of `networkPrefixLength` bits; `0` (or less) means none.
    public var maxPerIPv6Network: Int { perNetworkCap.load(ordering: .relaxed) }
    private let perNetworkCap: Synchronization.Atomic<Int>

    /// The IPv6 network the wider cap counts: a /48, the usual assignment to one site or customer.
    public static let networkPrefixLength = 48
    /// The default of `maxPerIPv6Network`: eight hosts' worth of the default per-address cap.
    public static let defaultMaxPerIPv6Network = 128

    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - maxConnections: the global cap, e.g. `FileDescriptorLimit.defaultMaxConnections(openFileLimit:)`;
    ///     `0` turns it off.
    ///   - maxPerAddress: the cap per client address (IPv6: per /64); `0` turns it off.
    ///   - maxPerIPv6Network: the cap per IPv6 /48; `0` turns it off.
    public init(
        maxConnections: Int,
        maxPerAddress: Int = 16,
        maxPerIPv6Network: Int = ConnectionLimiter.defaultMaxPerIPv6Network
    ) {
        self.maxConnections = max(maxConnections, 0)
        self.perAddressCap = Synchronization.Atomic(max(maxPerAddress, 0))
        self.perNetworkCap = Synchronization.Atomic(max(maxPerIPv6Network, 0))
    }

    /// Tries to take a slot for a new connection from `address`.
    ///
    /// Keep the returned ticket for the connection's whole life and `release()` it when the connection closes.
    /// Dropping the last reference to a ticket releases it too (a safety net against leaked slots, which would
    /// otherwise lock an address out for good), so do not discard it while the connection is open.
    public func tryAcquire(address: String) -> AdmissionDecision {
        // Parsed outside the lock: the critical section stays a few dictionary operations.
        let network = Self.networkKey(forAddressKey: address)
        let refusal: RefusalReason? = self.state.withLockedValue { state in
            if self.maxConnections > 0, state.active >= self.maxConnections {
                state.refusedServerFull += 1
                return .serverFull
            }
            let current = state.perAddress[address, default: 0]
            if self.maxPerAddress > 0, current >= self.maxPerAddress {
                state.refusedTooManyFromAddress += 1
                return .tooManyFromAddress
            }
            if let network {
                let inNetwork = state.perNetwork[network, default: 0]
                if self.maxPerIPv6Network > 0, inNetwork >= self.maxPerIPv6Network {
                    state.refusedTooManyFromAddress += 1
                    state.refusedByNetworkCap += 1
                    return .tooManyFromAddress
                }
                state.perNetwork[network] = inNetwork + 1
            }
            state.active += 1
            state.perAddress[address] = current + 1
            return nil
        }
        if let refusal {
            return .refused(refusal)
        }
        return .admitted(ConnectionTicket(limiter: self, address: address, network: network))
    }

    /// A consistent snapshot of all counters.
    public var statistics: Statistics {
        self.state.withLockedValue { state in
            Statistics(
                activeConnections: state.active,
                trackedAddresses: state.perAddress.count,
                refusals: [
                    .serverFull: state.refusedServerFull,
                    .tooManyFromAddress: state.refusedTooManyFromAddress,
                ],
                trackedNetworks: state.perNetwork.count,
                refusedByNetworkCap: state.refusedByNetworkCap
            )
        }
    }

    /// Connections currently held by `address`.
    public func connectionCount(for address: String) -> Int {
        self.state.withLockedValue { $0.perAddress[address, default: 0] }
    }

    /// Connections currently held by the IPv6 /48 of `address` (an address key or any IPv6 address or network);
    /// 0 for IPv4.
    public func networkConnectionCount(for address: String) -> Int {
        guard let network = Self.networkKey(forAddressKey: address) else { return 0 }
        return self.state.withLockedValue { $0.perNetwork[network, default: 0] }
    }

    /// Called exactly once per admitted ticket (the ticket guarantees the "once").
    func release(address: String, network: String?) {
        self.state.withLockedValue { state in
            state.active -= 1
            // Remove entries at zero so the tables cannot grow with every address ever seen.
            Self.decrement(&state.perAddress, address)
            if let network { Self.decrement(&state.perNetwork, network) }
        }
    }

    private static func decrement(_ table: inout [String: Int], _ key: String) {
        if let count = table[key], count > 1 {
            table[key] = count - 1
        } else {
            table[key] = nil
        }
    }
}

/// The answer of `ConnectionLimiter.tryAcquire(address:)`.
public enum AdmissionDecision: Sendable {
    /// Admitted: hold the ticket while the connection is open, release it when it closes.
    case admitted(ConnectionTicket)
    /// Refused: close the connection (after telling the client why, if desired).
    case refused(ConnectionLimiter.RefusalReason)

    /// The ticket if admitted.
    public var ticket: ConnectionTicket? {
        if case .admitted(let ticket) = self { ticket } else { nil }
    }

    /// The reason if refused.
    public var refusalReason: ConnectionLimiter.RefusalReason? {
        if case .refused(let reason) = self { reason } else { nil }
    }
}

extension ConnectionLimiter {
    /// New caps (a SIGHUP reload); connections already over a lowered cap stay, new ones wait until below it.
    public func setCaps(maxPerAddress: Int, maxPerIPv6Network: Int) {
        perAddressCap.store(max(maxPerAddress, 0), ordering: .relaxed)
        perNetworkCap.store(max(maxPerIPv6Network, 0), ordering: .relaxed)
    }
}
