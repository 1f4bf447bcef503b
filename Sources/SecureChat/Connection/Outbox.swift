import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// One client's writer: a bounded queue that the hub fills synchronously and that drains on the channel's event
/// loop, a batch at a time, with one flush per batch.
///
/// The queue is bounded by bytes. A line that does not fit drops the queue and closes the connection ("send
/// queue overflow"), so a client that stops reading costs the server at most `limit` bytes here plus what
/// NIO's channel buffer holds after the last batch. A channel that stays unwritable for `writeTimeout` is
/// closed too, even if little is queued.
///
/// It is the only owner of closing its channel: whoever ends a connection (the session, the hub, a timer, a
/// failed handshake, shutdown) asks it with a ``CloseReason``, and the first reason is the one that is counted
/// and reported.
///
/// `@unchecked Sendable`: the queue is behind `lock`; `context`, `allocator`, `writable`, `closeWhenActive`,
/// `stallTimer` and `closeDeadline` are only touched on the channel's event loop.
///
/// Field order is deliberate: a fan-out touches hundreds of outboxes that are cold in the cache, twice (the hub
/// queues, then the event loop drains), so what both passes need (the lock, the queue, the event loop, the
/// channel context) comes first, together. The lock is NIO's (a pthread mutex in an allocation of its own), not
/// `Synchronization.Mutex`, which would sit inline and save that cache line, but whose futex ThreadSanitizer cannot
/// see on Linux: every access to the queue is reported as a race.
/// It is the pipeline's last handler, behind the `SessionDriver` that consumes every line: no read passes through
/// it. It is an inbound handler only for the channel's events (active, writability, inactive).
final class Outbox: ChannelInboundHandler, RemovableChannelHandler, ClientOutbox, @unchecked Sendable {
    /// Nothing: the driver in front of it consumes every line.
    typealias InboundIn = Never
    typealias OutboundOut = ByteBuffer

    /// Queued lines. The first one is held inline and the rest in an Array that is handed over whole to the
    /// writer, so an idle connection's queue holds no heap memory, and the usual single-line batch allocates
    /// none either.
    struct Lines {
        private(set) var first: ByteBuffer?
        private(set) var more: [ByteBuffer] = []

        var isEmpty: Bool { first == nil }

        mutating func append(_ line: ByteBuffer) {
            if first == nil { first = line } else { more.append(line) }
        }
    }

    private struct Queue {
        var lines = Lines()
        var bytes = 0
        /// Most bytes queued: past it the connection is closed. Under the lock with the queue, because it grows
        /// once (``speak(_:)``) while the hub may be queueing.
        var limit: Int
        /// A drain is scheduled, or will run when the channel becomes writable again.
        var drainPending = false
        var closing = false
        var closeReason: CloseReason?

        /// Moves the queued lines out, leaving an empty queue that owns no storage.
        mutating func takeLines() -> Lines {
            var taken = Lines()
            swap(&taken, &lines)
            return taken
        }
    }

    // The hot path's fields, first (see above).
    private let lock = NIOLock()
    private var queue: Queue
    let eventLoop: any EventLoop
    // Event-loop confined.
    private var context: ChannelHandlerContext?
    /// Set for a line session: the transport's handler (`OutboundByteWriter`), which it writes to directly. That
    /// spares each delivery a walk down the pipeline (see ``write(directlyTo:)``).
    private var directWriter: (any OutboundByteWriter)?
    /// Mirrors `channel.isWritable`, which is false until the channel is active: lines queued before that wait.
    private var writable = false
    /// The channel's allocator, kept at `handlerAdded` (`context.channel` costs a retain and a pipeline walk).
    private var allocator = ByteBufferAllocator()
    private let counters: ServerCounters?
    /// The limit once the connection speaks JSON (see `Configuration.jsonOutboxBytes`).
    private let jsonLimit: Int

    private let writeTimeout: TimeAmount
    private let log: ConnectionLog
    /// Evictions are logged at a bounded rate across all connections: a storm of slow readers cannot fill the disk.
    private let evictionLog: LogRateLimiter?
    // Event-loop confined.
    private var stallTimer: Scheduled<Void>?
    /// A close was asked for before the channel was active (a refused connection): done on activation.
    private var closeWhenActive = false
    /// Closes the channel if a graceful close's last write never completes.
    private var closeDeadline: Scheduled<Void>?

    /// Completed when the channel has closed.
    let closeFuture: EventLoopFuture<Void>
    /// Set once, on the event loop, before the session starts (``speak(_:)``); read by the hub for every line it
    /// queues, and by a shutdown that may come before the connection said what it speaks: hence an atomic (a
    /// relaxed load is a plain read on x86 and ARM).
    private let speaksJSON = Atomic<Bool>(false)

    var format: WireFormat {
        speaksJSON.load(ordering: .relaxed) ? .json : .line
    }

    init(
        channel: any Channel,
        limit: Int,
        jsonLimit: Int? = nil,
        writeTimeout: TimeAmount,
        counters: ServerCounters?,
        log: ConnectionLog,
        evictionLog: LogRateLimiter? = nil
    ) {
        self.evictionLog = evictionLog
        self.eventLoop = channel.eventLoop
        self.closeFuture = channel.closeFuture
        self.queue = Queue(limit: limit)
        self.jsonLimit = jsonLimit ?? limit
        self.writeTimeout = writeTimeout
        self.counters = counters
        self.log = log
    }

    private var logger: Logger {
        log.logger
    }

    /// The connection turned out to speak `format` (a WebSocket speaks JSON): JSON gets its own limit, as its
    /// longest lines are longer. Before the session starts.
    func speak(_ format: WireFormat) {
        if format == .json { lock.withLock { queue.limit = jsonLimit } }
        speaksJSON.store(format == .json, ordering: .relaxed)
    }

    /// From now on, writes go to `writer` directly instead of down the pipeline. Only for a connection where every
    /// handler between the two passes bytes through unchanged; on the event loop, before the session starts.
    func write(directlyTo writer: any OutboundByteWriter) {
        eventLoop.assertInEventLoop()
        directWriter = writer
    }

    /// Why the connection was closed by the server side, if it was.
    var closeReason: CloseReason? {
        lock.withLock { queue.closeReason }
    }

    // MARK: - ClientOutbox

    func enqueue(_ line: ByteBuffer) -> EnqueueResult {
        let result: EnqueueResult = lock.withLock {
            if queue.closing { return .closed }
            if queue.bytes + line.readableBytes > queue.limit {
                queue.closing = true
                queue.closeReason = .sendQueueOverflow
                queue.lines = Lines()
                queue.bytes = 0
                return .overflow
            }
            queue.lines.append(line)
            queue.bytes += line.readableBytes
            if queue.drainPending { return .queued(wake: nil) }
            queue.drainPending = true
            return .queued(wake: eventLoop)
        }
        if result == .overflow {
            closed(for: .sendQueueOverflow)
            eventLoop.execute { self.closeNow(reason: .sendQueueOverflow) }
        }
        return result
    }

    func wake() {
        drain()
    }

    func close(reason: CloseReason) {
        guard markClosing(reason) else { return }
        eventLoop.execute { self.drainAndClose() }
    }

    /// Closes the connection now, whatever is still queued or unsent: for a peer that has not earned a goodbye
    /// (no login in time, a failed handshake, where a graceful close would wait for a handshake that never
    /// comes) and for the end of a shutdown's grace period. The first reason given is still the one counted.
    func abort(reason: CloseReason) {
        _ = markClosing(reason)
        eventLoop.execute { self.context?.close(promise: nil) }
    }

    /// Records the first reason; false if the outbox was already closing.
    private func markClosing(_ reason: CloseReason) -> Bool {
        let first: Bool = lock.withLock {
            if queue.closing { return false }
            queue.closing = true
            queue.closeReason = reason
            return true
        }
        if first { closed(for: reason) }
        return first
    }

    /// The one place a close reason is counted.
    private func closed(for reason: CloseReason) {
        if let event = reason.counter { counters?.increment(event) }
    }

    // MARK: - ChannelHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.allocator = context.channel.allocator
        self.writable = context.channel.isActive && context.channel.isWritable
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        stallTimer?.cancel()
        closeDeadline?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        context.fireChannelActive()
        if closeWhenActive {
            drainAndClose()
        } else {
            drain()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        lock.withLock {
            queue.closing = true
            queue.lines = Lines()
            queue.bytes = 0
        }
        stallTimer?.cancel()
        stallTimer = nil
        closeDeadline?.cancel()
        closeDeadline = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable {
            stallTimer?.cancel()
            stallTimer = nil
            drain()
        } else if stallTimer == nil {
            stallTimer = context.eventLoop.scheduleTask(in: writeTimeout) { [self] in
                _ = markClosing(.writeTimeout)
                closeNow(reason: .writeTimeout)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Writer

    /// Writes everything queued as one batch and flushes once. While the channel is unwritable the batch waits
    /// (the drain stays pending) until `channelWritabilityChanged` says the socket drains again.
    private func drain() {
        guard let context, writable else { return }
        let lines = lock.withLock {
            queue.bytes = 0
            queue.drainPending = false
            return queue.takeLines()
        }
        guard let first = lines.first else { return }
        if lines.more.isEmpty {
            // The usual batch at light load: one line, and one pass down the pipeline instead of two.
            if let directWriter {
                directWriter.write(first, promise: nil)
                directWriter.flush()
            } else {
                context.writeAndFlush(wrapOutboundOut(first), promise: nil)
            }
            counters?.bytesSent.add(first.readableBytes, ordering: .relaxed)
            return
        }
        let bytes = write(lines, context: context, promise: nil)
        counters?.bytesSent.add(bytes, ordering: .relaxed)
        flush(context)
    }

    /// One buffer, to the socket writer directly or down the pipeline.
    private func write(_ buffer: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let directWriter {
            directWriter.write(buffer, promise: promise)
        } else {
            context.write(wrapOutboundOut(buffer), promise: promise)
        }
    }

    private func flush(_ context: ChannelHandlerContext) {
        if let directWriter { directWriter.flush() } else { context.flush() }
    }

    /// Largest buffer one coalesced write carries.
    static let coalescedWriteLimit = 64 * 1024

    /// Writes `lines` (not empty) as few buffers as possible: several lines are copied into buffers of up to
    /// `coalescedWriteLimit` bytes. One write per batch instead of one per line keeps NIO's pending-write
    /// queue at its initial size (it never shrinks once grown) and gives TLS one `SSL_write` per batch.
    /// `promise` completes with the last write. Returns the bytes written.
    private func write(_ lines: Lines, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) -> Int {
        guard let first = lines.first else { return 0 }
        if lines.more.isEmpty {
            write(first, context: context, promise: promise)
            return first.readableBytes
        }
        var total = first.readableBytes
        for line in lines.more { total += line.readableBytes }
        var remaining = total
        var batch = allocator.buffer(capacity: min(remaining, Self.coalescedWriteLimit))
        func add(_ line: ByteBuffer) {
            if batch.readableBytes > 0, batch.readableBytes + line.readableBytes > Self.coalescedWriteLimit {
                remaining -= batch.readableBytes
                write(batch, context: context, promise: nil)
                batch = allocator.buffer(capacity: min(remaining, Self.coalescedWriteLimit))
            }
            batch.writeImmutableBuffer(line)
        }
        add(first)
        for line in lines.more { add(line) }
        write(batch, context: context, promise: promise)
        return total
    }

    /// Sends what is queued (best effort), then closes once it was written.
    private func drainAndClose() {
        guard let context else { return }
        guard context.channel.isActive else {
            closeWhenActive = true
            return
        }
        let lines = lock.withLock {
            queue.bytes = 0
            return queue.takeLines()
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        if lines.isEmpty {
            // Lines already handed to NIO (a farewell, the shutdown notice) may still wait in its write buffer,
            // and a close would fail them. NIO completes writes in order, so an empty write's promise says
            // they are out.
            write(ByteBuffer(), context: context, promise: written)
        } else {
            _ = write(lines, context: context, promise: written)
        }
        flush(context)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        // A client that stopped reading never lets that write complete, writable channel or not: the close
        // happens after `writeTimeout` anyway. A timer of its own, which no writability change cancels.
        if closeDeadline == nil {
            closeDeadline = context.eventLoop.scheduleTask(in: writeTimeout) { channel.close(promise: nil) }
        }
    }

    private func closeNow(reason: CloseReason) {
        guard let context else { return }
        if let evictionLog {
            evictionLog.log("evicting client", metadata: ["reason": "\(reason.leaveText)"], to: logger)
        } else {
            logger.notice("evicting client", metadata: ["reason": "\(reason.leaveText)"])
        }
        context.close(promise: nil)
    }
}
