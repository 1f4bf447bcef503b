import NIOCore

/// What the hub needs of a client's writer: a synchronous, bounded enqueue that never waits.
///
/// The hub holds one of these per member. `Outbox` is the channel-backed one; tests use in-memory ones.
/// Keeping the hub behind this seam is also where delivery to other cluster nodes would plug in.
public protocol ClientOutbox: AnyObject, Sendable {
    /// Queues one line. Must be O(1), must not block and must not await.
    func enqueue(_ line: ByteBuffer) -> EnqueueResult
    /// Queues one line like `enqueue(_:)`, but if the writer must be woken, leaves that to `wakeUps`, so one
    /// fan-out wakes each event loop once instead of once per recipient.
    func enqueue(_ line: ByteBuffer, wakeUps: inout WriterWakeUps) -> EnqueueResult
    /// Sends what is queued, then closes the connection. `reason` is what the logs and the leave notice say.
    func close(reason: String)
}

/// The outcome of `ClientOutbox.enqueue`.
public enum EnqueueResult: Sendable, Equatable {
    case queued
    /// The line did not fit: the outbox dropped its queue and is closing the connection.
    case overflow
    /// The connection is already closing; the line was dropped.
    case closed
}

extension ClientOutbox {
    /// Outboxes without a writer to wake (test doubles) simply enqueue.
    public func enqueue(_ line: ByteBuffer, wakeUps: inout WriterWakeUps) -> EnqueueResult {
        enqueue(line)
    }
}
