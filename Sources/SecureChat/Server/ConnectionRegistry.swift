/// The open connections, for the shutdown notice and for `run()` to wait until all are gone.
struct ConnectionRegistry {
    var outboxes: [ConnectionID: Outbox] = [:]
    /// Resumed when `outboxes` becomes empty.
    var emptyWaiters: [CheckedContinuation<Void, Never>] = []
}
