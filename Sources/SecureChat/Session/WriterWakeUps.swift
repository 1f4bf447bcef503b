import NIOCore

/// The writers one fan-out must wake, grouped by event loop, so a line to 500 recipients costs one task per
/// event loop (which drains every outbox of that loop in turn) instead of 500 tasks and wake-ups.
public struct WriterWakeUps {
    private var groups: [(loop: any EventLoop, outboxes: [Outbox])] = []

    public init() {}

    mutating func add(_ outbox: Outbox) {
        let loop = outbox.eventLoop
        for index in groups.indices where groups[index].loop === loop {
            groups[index].outboxes.append(outbox)
            return
        }
        groups.append((loop, [outbox]))
    }

    /// Submits one drain task per event loop. Call once the fan-out is done.
    public func wake() {
        for group in groups {
            let outboxes = group.outboxes
            group.loop.execute {
                for outbox in outboxes { outbox.drainFromWakeUp() }
            }
        }
    }
}
