import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The pipeline's first handler, next to NIO's head: it sends each flush straight to the socket with one `send(2)`
/// when NIO holds nothing of the connection's, and hands NIO only what the kernel did not take.
///
/// Why: at light load every delivery is one small write, and NIO's channel write path around that one system call
/// (the head handler, the pending-writes queue and its promises, the channel's lifecycle checks) cost more user
/// space per delivery than a whole C server's (BENCHMARKS.md, issue 27). The kernel's part is the same either way.
///
/// What NIO still does: everything but the common case. A send that would block, or that the kernel took only in
/// part, goes to NIO with the rest of the flush, and from then on every write goes to NIO, in order, until NIO has
/// written the last of them: NIO waits for the socket to drain, owns writability (so the outbox's stall timer and
/// the TLS handler's read hold see what NIO holds), and fails what it cannot write. A send that fails (reset,
/// broken pipe) goes to NIO too, which meets the same error and closes the channel as it always did.
///
/// The descriptor is only used on the event loop while the channel is active: NIO closes the socket on this event
/// loop, and marks the channel inactive before any callout can run, so a closed (and reused) descriptor is never
/// written to.
///
/// On a plaintext line connection the outbox writes to it directly (`OutboundByteWriter`), past the handlers
/// between them, none of which changes a byte it writes.
///
/// `@unchecked Sendable`: event-loop confined, like every handler; the outbox that holds it calls it there.
final class SocketWriter: ChannelOutboundHandler, RemovableChannelHandler, OutboundByteWriter, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let descriptor: CInt
    /// Kept at `handlerAdded`, for the outbox's direct writes; nil once removed.
    private var context: ChannelHandlerContext?
    /// Kept at `handlerAdded`: `context.channel` costs a retain and a pipeline walk.
    private var channel: (any Channel)?
    /// Written, not yet flushed (the usual flush has one buffer, held inline).
    private var pending = PendingWrites()
    /// NIO holds writes of ours that it has not finished: everything goes through NIO until it has.
    private var nioBusy = false
    /// Tells the last write handed to NIO from the ones before it.
    private var handOverCount = 0

    init(socket: CInt) {
        self.descriptor = socket
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        channel = context.channel
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        channel = nil
        handToNIO(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        hold(unwrapOutboundIn(data), promise: promise)
    }

    /// A write straight from the outbox (on the event loop), as if it had come down the pipeline.
    func write(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard context != nil else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        hold(buffer, promise: promise)
    }

    /// A flush straight from the outbox (on the event loop).
    func flush() {
        if let context { flush(context: context) }
    }

    private func hold(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        pending.append((buffer, promise))
    }

    func flush(context: ChannelHandlerContext) {
        guard !nioBusy, let channel, channel.isActive else {
            handToNIO(context: context)
            context.flush()
            return
        }
        while let (buffer, promise) = pending.popFirst() {
            var rest = buffer
            if send(&rest) {
                promise?.succeed(())
            } else {
                // The kernel took less than all: NIO has the rest, and everything after it.
                handToNIO(context: context, first: (rest, promise))
                context.flush()
                return
            }
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Unflushed writes meet the close in NIO, as they would have without this handler.
        handToNIO(context: context)
        context.close(mode: mode, promise: promise)
    }

    /// Sends `buffer` with one system call; true if the kernel took all of it. Otherwise `buffer` keeps what it
    /// did not take (all of it after an error, which NIO will meet again and handle).
    private func send(_ buffer: inout ByteBuffer) -> Bool {
        // An empty write (the outbox's "is all out?" probe) is out as soon as everything before it is.
        if buffer.readableBytes == 0 { return true }
        while true {
            let sent = buffer.withUnsafeReadableBytes { bytes in
                Glibc.send(descriptor, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent == buffer.readableBytes { return true }
            if sent >= 0 {
                buffer.moveReaderIndex(forwardBy: sent)
                return false
            }
            if errno != EINTR { return false }
        }
    }

    /// Passes `first` (if any) and every unflushed write to NIO, in order, and goes on through NIO until NIO has
    /// written the last of them.
    private func handToNIO(context: ChannelHandlerContext, first: PendingWrites.Write? = nil) {
        guard var next = first ?? pending.popFirst() else { return }
        while let after = pending.popFirst() {
            context.write(wrapOutboundOut(next.data), promise: next.promise)
            next = after
        }
        nioBusy = true
        handOverCount &+= 1
        let handOver = handOverCount
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { [self] _ in
            if handOverCount == handOver { nioBusy = false }
        }
        if let promise = next.promise { written.futureResult.cascade(to: promise) }
        context.write(wrapOutboundOut(next.data), promise: written)
    }
}
