import NIOCore

/// What the hub needs of a member's writer: a synchronous, bounded enqueue that never waits, and a way to end
/// the member's connection.
///
/// This is the hub's only view of a client. The channel-backed writer (`Outbox`, in Connection/) and the
/// tests' in-memory doubles implement it; so would anything else that delivers lines, such as a link to
/// another cluster node. Nothing here names a concrete writer: a writer that must be woken says on which
/// event loop, and the hub batches those wake-ups (``WakeUpBatch``).
public protocol ClientOutbox: AnyObject, Sendable {
    /// Queues one line. O(1); must not block and must not await. A `.queued(wake:)` with a loop asks the
    /// caller to call `wake()` on that loop once (the writer was idle); every other result asks nothing.
    func enqueue(_ line: ByteBuffer) -> EnqueueResult
    /// Drains what was queued. Called on the loop an `enqueue` named, once per wake it asked for.
    func wake()
    /// Sends what is queued, then closes the connection. The first reason given is the one that counts.
    func close(reason: CloseReason)
    /// How the connection renders events: the hub hands each outbox its format's rendering of an event.
    var format: WireFormat { get }
}

/// The outcome of `ClientOutbox.enqueue`.
public enum EnqueueResult: Sendable {
    /// The line is queued. `wake` is the event loop on which the writer must be woken, or nil when a drain
    /// is already pending (or the writer needs no waking).
    case queued(wake: (any EventLoop)?)
    /// The line did not fit: the outbox dropped its queue and is closing the connection.
    case overflow
    /// The connection is already closing; the line was dropped.
    case closed
}

extension EnqueueResult: Equatable {
    public static func == (lhs: EnqueueResult, rhs: EnqueueResult) -> Bool {
        switch (lhs, rhs) {
        case (.queued(let left), .queued(let right)): return left === right
        case (.overflow, .overflow), (.closed, .closed): return true
        default: return false
        }
    }
}

extension ClientOutbox {
    /// The line protocol, unless the writer says otherwise.
    public var format: WireFormat { .line }

    /// Renders `event` in the outbox's format and sends it, as `send(_:)` does a line.
    @discardableResult
    public func send(_ event: ChatEvent) -> EnqueueResult {
        send(format.render(event))
    }

    /// Queues one line and wakes the writer if it asked for it: for a single line outside a fan-out.
    @discardableResult
    public func send(_ line: ByteBuffer) -> EnqueueResult {
        let result = enqueue(line)
        if case .queued(let loop?) = result {
            loop.execute { self.wake() }
        }
        return result
    }
}
