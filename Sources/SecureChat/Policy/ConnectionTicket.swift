import Synchronization

/// One admitted connection's slot in a `ConnectionLimiter`.
///
/// `release()` gives the slot back; it is idempotent and safe to call from any thread, because a connection can
/// be closed by several paths at once (client quit, eviction, server shutdown). The last reference going away
/// releases the slot as well, so a forgotten `release()` cannot leak it.
public final class ConnectionTicket: Sendable {
    /// The address the slot was counted against.
    public let address: String
    /// The IPv6 /48 the slot was also counted against, if any.
    let network: String?
    private let limiter: ConnectionLimiter
    private let released = Atomic<Bool>(false)

    init(limiter: ConnectionLimiter, address: String, network: String?) {
        self.limiter = limiter
        self.address = address
        self.network = network
    }

    /// Whether the slot has been given back.
    public var isReleased: Bool { self.released.load(ordering: .acquiring) }

    /// Gives the slot back. Only the first call has an effect.
    public func release() {
        // The exchange makes "first caller wins" atomic, so racing closes cannot double-decrement.
        let (exchanged, _) = self.released.compareExchange(
            expected: false,
            desired: true,
            ordering: .acquiringAndReleasing
        )
        if exchanged {
            self.limiter.release(address: self.address, network: self.network)
        }
    }

    deinit {
        self.release()
    }
}
