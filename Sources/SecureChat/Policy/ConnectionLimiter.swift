import Synchronization

/// Caps the number of open connections, globally and per client address, and counts what it refuses.
///
/// Shared by every listener and event loop, so all state sits behind one `Mutex`; the critical sections are a
/// dictionary lookup and a few integer updates. The class is `Sendable` without `@unchecked` because its only
/// stored properties are `let`s of `Sendable` types (the mutex and the caps).
///
/// Addresses are opaque strings; pass the client's IP without the port (see `addressKey(for:)`, which also
/// groups IPv6 clients by /64). An address's entry is removed when its last connection is released, so the
/// table holds only addresses with open connections.
public final class ConnectionLimiter: Sendable {
    /// Why a connection was refused.
    public enum RefusalReason: Sendable, Hashable, CaseIterable {
        /// The global cap is reached.
        case serverFull
        /// The client's address already holds `maxPerAddress` connections.
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
    }

    private struct State {
        var active = 0
        var perAddress: [String: Int] = [:]
        var refusedServerFull = 0
        var refusedTooManyFromAddress = 0
    }

    /// The global cap; `0` (or less) means no global cap.
    public let maxConnections: Int
    /// The per-address cap; `0` (or less) means no per-address cap.
    public let maxPerAddress: Int

    private let state = Mutex(State())

    /// - Parameters:
    ///   - maxConnections: the global cap, e.g. `FileDescriptorLimit.defaultMaxConnections(openFileLimit:)`;
    ///     `0` turns it off.
    ///   - maxPerAddress: the cap per client address; `0` turns it off.
    public init(maxConnections: Int, maxPerAddress: Int = 16) {
        self.maxConnections = max(maxConnections, 0)
        self.maxPerAddress = max(maxPerAddress, 0)
    }

    /// A limiter whose global cap comes from the process's current open-file limit (call
    /// `FileDescriptorLimit.raiseToHardLimit()` first), via `FileDescriptorLimit.defaultMaxConnections`.
    public convenience init(maxPerAddress: Int = 16) {
        let openFiles = FileDescriptorLimit.current().soft
        self.init(
            maxConnections: FileDescriptorLimit.defaultMaxConnections(openFileLimit: openFiles),
            maxPerAddress: maxPerAddress
        )
    }

    /// Tries to take a slot for a new connection from `address`.
    ///
    /// Keep the returned ticket for the connection's whole life and `release()` it when the connection closes.
    /// Dropping the last reference to a ticket releases it too (a safety net against leaked slots, which would
    /// otherwise lock an address out for good), so do not discard it while the connection is open.
    public func tryAcquire(address: String) -> AdmissionDecision {
        let refusal: RefusalReason? = self.state.withLock { state in
            if self.maxConnections > 0, state.active >= self.maxConnections {
                state.refusedServerFull += 1
                return .serverFull
            }
            let current = state.perAddress[address, default: 0]
            if self.maxPerAddress > 0, current >= self.maxPerAddress {
                state.refusedTooManyFromAddress += 1
                return .tooManyFromAddress
            }
            state.active += 1
            state.perAddress[address] = current + 1
            return nil
        }
        if let refusal {
            return .refused(refusal)
        }
        return .admitted(ConnectionTicket(limiter: self, address: address))
    }

    /// A consistent snapshot of all counters.
    public var statistics: Statistics {
        self.state.withLock { state in
            Statistics(
                activeConnections: state.active,
                trackedAddresses: state.perAddress.count,
                refusals: [
                    .serverFull: state.refusedServerFull,
                    .tooManyFromAddress: state.refusedTooManyFromAddress,
                ]
            )
        }
    }

    /// Connections currently held by `address`.
    public func connectionCount(for address: String) -> Int {
        self.state.withLock { $0.perAddress[address, default: 0] }
    }

    /// Called exactly once per admitted ticket (the ticket guarantees the "once").
    func release(address: String) {
        self.state.withLock { state in
            state.active -= 1
            // Remove the entry at zero so the table cannot grow with every address ever seen.
            if let count = state.perAddress[address], count > 1 {
                state.perAddress[address] = count - 1
            } else {
                state.perAddress[address] = nil
            }
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
