/// Everything a node had queued for the database and gives up on: the publisher's lines and the work queue.
/// Taken out under the link's lock, refused outside it, so that no sender and no login waits for an answer
/// that nobody will give (a node declared down, a node that has stopped).
struct QueuedWork {
    private var receipts: [CommitReceipt] = []
    private var claims: [CheckedContinuation<NameClaim, Never>] = []

    /// Empties `state`'s queues. Notices and presence changes go with them: the node that queued them is gone
    /// from the cluster, and its departures are announced for it.
    init(takingFrom state: inout ClusterLink.State) {
        receipts = state.outgoing.compactMap(\.receipt)
        state.outgoing.removeAll()
        for item in state.work {
            switch item {
            case .claim(_, _, _, let continuation): claims.append(continuation)
            case .relay(_, let receipt): if let receipt { receipts.append(receipt) }
            case .banAdded, .bansLifted, .reconcilePresence: break
            }
        }
        state.work.removeAll()
    }

    /// Tells every waiting sender that its line was not sent, and every waiting login that the name could not
    /// be claimed.
    func refuse() {
        for receipt in receipts { receipt.resolve(.notSent) }
        for claim in claims { claim.resume(returning: .unavailable) }
    }
}
