import NIOConcurrencyHelpers
import NIOCore

/// In a cluster: one session's chat lines that are queued for a commit and not yet committed.
///
/// A sender does not wait for each line's commit before reading the next one. Waiting capped a sender at one
/// line per commit round trip and left the batches half full, however fast the database was. The session
/// waits only when `limit` lines are in flight, so a flood is held back by TCP rather than by memory, and
/// before anything other than a chat line, so that what follows a line (a `/msg`, a `/whois`) happens after
/// it. Lines keep their order anyway: one node commits its batches one at a time, in queue order.
///
/// Refused lines are reported through each receipt's watcher, not here. Only the connection's driver calls
/// in, one call at a time; the lock is there for `Sendable`, and is never contended.
final class UncommittedLines: Sendable {
    /// Most lines one session has in flight: enough to fill a batch many times over with a few busy senders.
    static let limit = 32

    private let receipts = NIOLockedValueBox(CircularBuffer<CommitReceipt>(initialCapacity: 4))

    /// Adds a line's receipt, and waits while more than `limit` are unresolved.
    func add(_ receipt: CommitReceipt) async {
        let oldest: CommitReceipt? = receipts.withLockedValue { receipts in
            while let first = receipts.first, first.isResolved { receipts.removeFirst() }
            receipts.append(receipt)
            return receipts.count > Self.limit ? receipts.removeFirst() : nil
        }
        if let oldest { _ = await oldest.outcome }
    }

    /// Waits until every line added so far is committed or refused.
    func settle() async {
        while let next = receipts.withLockedValue({ $0.popFirst() }) {
            _ = await next.outcome
        }
    }
}
