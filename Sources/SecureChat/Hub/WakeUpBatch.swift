import NIOCore

/// The writers one fan-out must wake, grouped by event loop, so a line to 500 recipients costs one task per
/// event loop (which wakes every writer of that loop in turn) instead of 500 tasks.
struct WakeUpBatch {
    private var groups: [(loop: any EventLoop, outboxes: [any ClientOutbox])] = []

    /// Queues `line` in `outbox`, remembering a wake-up it asks for instead of submitting it.
    mutating func enqueue(_ line: ByteBuffer, in outbox: any ClientOutbox) -> EnqueueResult {
        let result = outbox.enqueue(line)
        if case .queued(let loop?) = result {
            add(outbox, on: loop)
        }
        return result
    }

    private mutating func add(_ outbox: any ClientOutbox, on loop: any EventLoop) {
        for index in groups.indices where groups[index].loop === loop {
            groups[index].outboxes.append(outbox)
            return
        }
        groups.append((loop, [outbox]))
    }

    /// Submits one task per event loop. Call once the fan-out is done.
    func wake() {
        for group in groups {
            let outboxes = group.outboxes
            group.loop.execute {
                for outbox in outboxes { outbox.wake() }
            }
        }
    }
}
