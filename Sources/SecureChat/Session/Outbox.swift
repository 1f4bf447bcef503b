import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One client's writer: a bounded queue that the hub fills synchronously and that drains on the channel's event
/// loop, a batch at a time, with one flush per batch.
///
/// The queue is bounded by bytes. A line that does not fit drops the queue and closes the connection ("send
/// queue overflow"), so a client that stops reading costs the server at most `limit` bytes here plus what
/// NIO's channel buffer holds after the last batch. A channel that stays unwritable for `writeTimeout` is
/// closed too, even if little is queued.
///
/// `@unchecked Sendable`: the queue is behind `lock`; `context`, `writable` and `stallTimer` are only
/// touched on the channel's event loop.
public final class Outbox: ChannelInboundHandler, RemovableChannelHandler, ClientOutbox, @unchecked Sendable {
    public typealias InboundIn = InboundLine
    public typealias InboundOut = InboundLine
    public typealias OutboundOut = ByteBuffer

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
        /// A drain is scheduled, or will run when the channel becomes writable again.
        var drainPending = false
        var closing = false
        var closeReason: String?
    }

    private let lock = NIOLock()
    private var queue = Queue()

    let eventLoop: any EventLoop
    private let limit: Int
    private let writeTimeout: TimeAmount
    private let counters: ServerCounters?
    private let log: ConnectionLog

    // Event-loop confined.
    private var context: ChannelHandlerContext?
    /// Mirrors `channel.isWritable`, which is false until the channel is active: lines queued before that wait.
    private var writable = false
    private var stallTimer: Scheduled<Void>?

    public init(
        eventLoop: any EventLoop,
        limit: Int,
        writeTimeout: TimeAmount,
        counters: ServerCounters? = nil,
        logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.limit = limit
        self.writeTimeout = writeTimeout
        self.counters = counters
        self.log = ConnectionLog(plain: logger)
    }

    /// The server's outbox: logs with the connection's metadata, built only when it logs.
    init(
        eventLoop: any EventLoop,
        limit: Int,
        writeTimeout: TimeAmount,
        counters: ServerCounters?,
        log: ConnectionLog
    ) {
        self.eventLoop = eventLoop
        self.limit = limit
        self.writeTimeout = writeTimeout
        self.counters = counters
        self.log = log
    }

    private var logger: Logger {
        log.logger
    }

    /// Why the connection was closed by the server side, if it was.
    public var closeReason: String? {
        lock.withLock { queue.closeReason }
    }

    // MARK: - ClientOutbox

    public func enqueue(_ line: ByteBuffer) -> EnqueueResult {
        let (result, action) = append(line)
        switch action {
        case .none: break
        case .scheduleDrain: eventLoop.execute { self.drain() }
        case .evict: evict()
        }
        return result
    }

    public func enqueue(_ line: ByteBuffer, wakeUps: inout WriterWakeUps) -> EnqueueResult {
        let (result, action) = append(line)
        switch action {
        case .none: break
        case .scheduleDrain: wakeUps.add(self)
        case .evict: evict()
        }
        return result
    }

    /// Run by `WriterWakeUps` on this outbox's event loop.
    func drainFromWakeUp() {
        drain()
    }

    private enum Action { case none, scheduleDrain, evict }

    private func append(_ line: ByteBuffer) -> (EnqueueResult, Action) {
        lock.withLock {
            if queue.closing { return (.closed, .none) }
            if queue.bytes + line.readableBytes > limit {
                queue.closing = true
                queue.closeReason = "send queue overflow"
                queue.lines = Lines()
                queue.bytes = 0
                return (.overflow, .evict)
            }
            queue.lines.append(line)
            queue.bytes += line.readableBytes
            if queue.drainPending { return (.queued, .none) }
            queue.drainPending = true
            return (.queued, .scheduleDrain)
        }
    }

    private func evict() {
        counters?.increment(.outboxOverflow)
        eventLoop.execute { self.closeNow(reason: "send queue overflow") }
    }

    public func close(reason: String) {
        let first: Bool = lock.withLock {
            if queue.closing { return false }
            queue.closing = true
            queue.closeReason = reason
            return true
        }
        guard first else { return }
        eventLoop.execute { self.drainAndClose() }
    }

    // MARK: - ChannelHandler

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.writable = context.channel.isActive && context.channel.isWritable
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        stallTimer?.cancel()
    }

    public func channelActive(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        drain()
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        lock.withLock {
            queue.closing = true
            queue.lines = Lines()
            queue.bytes = 0
        }
        stallTimer?.cancel()
        stallTimer = nil
        context.fireChannelInactive()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable {
            stallTimer?.cancel()
            stallTimer = nil
            drain()
        } else if stallTimer == nil {
            stallTimer = context.eventLoop.scheduleTask(in: writeTimeout) { [self] in
                let reason = "write timeout (client stopped reading)"
                lock.withLock {
                    queue.closing = true
                    queue.closeReason = queue.closeReason ?? reason
                }
                counters?.increment(.writeTimeout)
                closeNow(reason: reason)
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
            return takeLines()
        }
        guard !lines.isEmpty else { return }
        let bytes = write(lines, context: context, promise: nil)
        counters?.bytesSent.add(bytes, ordering: .relaxed)
        context.flush()
    }

    /// Under the lock: moves the queued lines out, leaving an empty queue that owns no storage.
    private func takeLines() -> Lines {
        var lines = Lines()
        swap(&lines, &queue.lines)
        return lines
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
            context.write(wrapOutboundOut(first), promise: promise)
            return first.readableBytes
        }
        var total = first.readableBytes
        for line in lines.more { total += line.readableBytes }
        var remaining = total
        var batch = context.channel.allocator.buffer(capacity: min(remaining, Self.coalescedWriteLimit))
        func add(_ line: ByteBuffer) {
            if batch.readableBytes > 0, batch.readableBytes + line.readableBytes > Self.coalescedWriteLimit {
                remaining -= batch.readableBytes
                context.write(wrapOutboundOut(batch), promise: nil)
                batch = context.channel.allocator.buffer(capacity: min(remaining, Self.coalescedWriteLimit))
            }
            batch.writeImmutableBuffer(line)
        }
        add(first)
        for line in lines.more { add(line) }
        context.write(wrapOutboundOut(batch), promise: promise)
        return total
    }

    /// Sends what is queued (best effort), then closes once it was written.
    private func drainAndClose() {
        guard let context else { return }
        let lines = lock.withLock {
            queue.bytes = 0
            return takeLines()
        }
        guard !lines.isEmpty else {
            context.close(promise: nil)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        _ = write(lines, context: context, promise: written)
        context.flush()
        // The write-timeout timer (if the client is not reading) still closes the connection if this never
        // completes.
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        if !writable, stallTimer == nil {
            stallTimer = context.eventLoop.scheduleTask(in: writeTimeout) { channel.close(promise: nil) }
        }
    }

    /// Closes the connection now, whatever is still queued (the end of a shutdown's grace period).
    public func forceClose() {
        eventLoop.execute { self.context?.close(promise: nil) }
    }

    private func closeNow(reason: String) {
        guard let context else { return }
        logger.notice("evicting client", metadata: ["reason": "\(reason)"])
        context.close(promise: nil)
    }
}
