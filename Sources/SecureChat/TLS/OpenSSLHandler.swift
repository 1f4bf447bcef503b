import NIOCore

/// A channel handler that speaks TLS over the channel with the system's OpenSSL: ciphertext below it,
/// plaintext `ByteBuffer`s above it.
///
/// - The handshake starts when the channel becomes active (or at once if it already is). When it
///   completes, a ``TLSHandshakeCompleted`` user inbound event is fired; ``handshakeInfo`` holds the
///   same value afterwards. Writes made earlier are held and sent after the handshake.
/// - Errors: a failed handshake or a corrupt record fires exactly one ``TLSError`` through
///   `fireErrorCaught` and closes the channel. A peer that disappears without close_notify after the
///   handshake is treated as an ordinary disconnect (no error); one that disappears during the
///   handshake fires one ``TLSError`` with code ``TLSError/Code/eofDuringHandshake``.
/// - `close(mode: .all)` sends close_notify and closes once the peer answers, or after
///   `shutdownTimeout`. A close_notify from the peer is answered and the channel closed.
///   Half-closure (`.output`, `.input`) is not supported.
///
/// Like all channel handlers it must only be used on its channel's event loop.
public final class OpenSSLHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Which side of the handshake this handler plays.
    public enum Mode: Sendable, Hashable {
        case server
        /// `serverHostname` is sent as SNI and, if the context verifies peers, checked against the
        /// server's certificate (DNS name or IP address). `nil` skips the name check.
        case client(serverHostname: String?)
    }

    private enum State {
        case idle
        case handshaking
        case active
        /// Our close_notify is sent; waiting for the peer's until the timer closes uncleanly.
        case closing(Scheduled<Void>)
        case closed
    }

    private typealias PendingWrite = (data: ByteBuffer, promise: EventLoopPromise<Void>?)

    private var state: State = .idle
    private let connection: SSLConnection
    private let shutdownTimeout: TimeAmount
    /// Writes not yet handed to OpenSSL: everything before the handshake completes, and unflushed
    /// writes afterwards. The first `flushedWriteCount` of them have been flushed by the user.
    private var pendingWrites = CircularBuffer<PendingWrite>(initialCapacity: 4)
    private var flushedWriteCount = 0
    private var closePromise: EventLoopPromise<Void>?

    /// What was negotiated, once the handshake has completed; `nil` before.
    public private(set) var handshakeInfo: TLSHandshakeCompleted?

    /// - Parameters:
    ///   - context: a ``TLSContext`` made by `TLSContext.server` for `.server`, `TLSContext.client` for
    ///     `.client`.
    ///   - session: client only: a session from an earlier connection to the same server, to resume.
    ///   - shutdownTimeout: how long to wait for the peer's close_notify after sending ours.
    /// - Throws: ``TLSError`` if the mode does not match the context or OpenSSL cannot make a connection.
    public init(
        context: TLSContext,
        mode: Mode,
        resuming session: TLSSession? = nil,
        shutdownTimeout: TimeAmount = .seconds(5)
    ) throws {
        switch (mode, context.role) {
        case (.server, .server):
            self.connection = try SSLConnection(context: context, isServer: true, serverHostname: nil, session: nil)
        case (.client(let serverHostname), .client):
            self.connection = try SSLConnection(
                context: context,
                isServer: false,
                serverHostname: serverHostname,
                session: session
            )
        default:
            throw TLSError.configurationFailed("handler mode \(mode) does not match the TLS context's role")
        }
        self.shutdownTimeout = shutdownTimeout
    }

    /// The session of this (client) connection, if it can be resumed by a later connection. With TLS 1.3
    /// it is available once the server's session ticket has arrived, shortly after the handshake.
    public var resumableSession: TLSSession? {
        self.connection.resumableSession()
    }

    /// Bytes held by this connection's memory BIOs (tests check that idle connections stay small).
    var bufferedAllocation: Int {
        self.connection.bufferedAllocation
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.startHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        if case .closing(let timer) = self.state {
            timer.cancel()
        }
        self.state = .closed
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        let promise = self.closePromise
        self.closePromise = nil
        promise?.fail(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        // Fired before the handshake on purpose: the handshake may fail and close the channel at once, and
        // handlers above must see active before inactive.
        context.fireChannelActive()
        self.startHandshake(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        // Settle our state before calling out: the calls below run user code that may call back into us.
        let oldState = self.state
        self.state = .closed
        var error: TLSError?
        switch oldState {
        case .idle, .closed, .active:
            // `.active`: a missing close_notify is how most clients leave; not worth an error.
            break
        case .handshaking:
            error = TLSError.eofDuringHandshake
        case .closing(let timer):
            timer.cancel()
        }
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        let promise = self.closePromise
        self.closePromise = nil
        // The channel is closed, which is what the closer asked for, even if the peer never answered.
        promise?.succeed(())
        if let error {
            context.fireErrorCaught(error)
        }
        context.fireChannelInactive()
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = Self.unwrapInboundIn(data)
        switch self.state {
        case .closed:
            return
        case .idle, .handshaking, .active, .closing:
            break
        }
        if let error = self.connection.consumeDataFromNetwork(ciphertext) {
            self.fail(context: context, error: error)
            return
        }
        switch self.state {
        case .idle:
            // Bytes before channelActive (possible with some test channels): start now.
            self.startHandshake(context: context)
        case .handshaking:
            self.handshakeStep(context: context)
        case .active, .closing:
            self.decodeData(context: context)
        case .closed:
            break
        }
        self.connection.releaseConsumedInput()
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // Always forwarded, even after a read that carried only handshake bytes: handlers above that
        // manage reads (autoRead off) need it to ask for more.
        context.fireChannelReadComplete()
    }

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .idle = self.state else {
            return
        }
        self.state = .handshaking
        self.handshakeStep(context: context)
    }

    private func handshakeStep(context: ChannelHandlerContext) {
        switch self.connection.doHandshake() {
        case .incomplete:
            self.flushOutput(context: context)
        case .complete:
            self.completeHandshake(context: context)
        case .closedByPeer:
            self.fail(context: context, error: TLSError.handshakeFailed("the peer sent close_notify"))
        case .failed(let error):
            // Send the alert OpenSSL wrote, so the peer learns why.
            self.flushOutput(context: context)
            self.fail(context: context, error: error)
        }
    }

    private func completeHandshake(context: ChannelHandlerContext) {
        self.state = .active
        self.flushOutput(context: context)
        let info = self.connection.handshakeInfo()
        self.handshakeInfo = info
        context.fireUserInboundEventTriggered(info)
        // The event ran user code, which may have closed the channel.
        guard case .active = self.state else {
            return
        }
        // Application data (or a session ticket) may have arrived with the last handshake flight.
        self.decodeData(context: context)
        self.unbufferWrites(context: context)
    }

    private enum ReadOutcome {
        case needMoreData
        case closedByPeer
        case failed(TLSError)
    }

    /// Decrypts everything OpenSSL can, then passes it on as one buffer.
    private func decodeData(context: ChannelHandlerContext) {
        var plaintext = context.channel.allocator.buffer(capacity: 0)
        var outcome = ReadOutcome.needMoreData
        // The whole loop runs before any user code does, so no callback can re-enter SSL_read.
        readLoop: while true {
            switch self.connection.read(into: &plaintext) {
            case .complete:
                continue readLoop
            case .incomplete:
                break readLoop
            case .closedByPeer:
                outcome = .closedByPeer
                break readLoop
            case .failed(let error):
                outcome = .failed(error)
                break readLoop
            }
        }
        // Reading may have produced output: TLS 1.3 key-update replies, alerts.
        self.flushOutput(context: context)
        // Each SSL_read reserves a full record (16 KiB); a few bytes of a half-typed line must not pin that
        // (or twice that) until the line is finished: hand on a right-sized copy instead.
        if plaintext.capacity - plaintext.readableBytes > 4096 {
            var compact = context.channel.allocator.buffer(capacity: plaintext.readableBytes)
            compact.writeBuffer(&plaintext)
            plaintext = compact
        }
        if plaintext.readableBytes > 0 {
            context.fireChannelRead(Self.wrapInboundOut(plaintext))
        }
        switch outcome {
        case .needMoreData:
            break
        case .closedByPeer:
            self.peerSentCloseNotify(context: context)
        case .failed(let error):
            self.fail(context: context, error: error)
        }
    }

    private func peerSentCloseNotify(context: ChannelHandlerContext) {
        if case .active = self.state {
            context.fireUserInboundEventTriggered(TLSCloseNotifyReceived())
        } else if case .closing = self.state {
            context.fireUserInboundEventTriggered(TLSCloseNotifyReceived())
        }
        switch self.state {
        case .active:
            // Answer with ours, then close. Writes not yet flushed can no longer be sent.
            self.state = .closed
            _ = self.connection.shutdown()
            self.flushOutput(context: context)
            self.closeChannel(context: context)
        case .closing(let timer):
            // The answer to our close_notify: a clean shutdown.
            timer.cancel()
            self.state = .closed
            _ = self.connection.shutdown()
            self.closeChannel(context: context)
        case .idle, .handshaking, .closed:
            break
        }
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.state {
        case .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        case .closing:
            promise?.fail(ChannelError.outputClosed)
        case .idle, .handshaking, .active:
            self.pendingWrites.append((data: Self.unwrapOutboundIn(data), promise: promise))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        self.flushedWriteCount = self.pendingWrites.count
        // Before the handshake completes the count is all we keep; `completeHandshake` sends them.
        if case .active = self.state {
            self.unbufferWrites(context: context)
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else {
            promise?.fail(ChannelError.operationUnsupported)
            return
        }
        switch self.state {
        case .idle, .handshaking:
            // OpenSSL cannot send close_notify mid-handshake, and there is no session to end cleanly.
            self.state = .closed
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(promise: promise)
        case .active:
            self.closePromise = promise
            // Flushed writes are already encrypted and sent; unflushed ones die with the channel, as
            // they would on a plain socket.
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            switch self.connection.shutdown() {
            case .incomplete:
                self.state = .closing(self.scheduleShutdownTimeout(context: context))
                self.flushOutput(context: context)
            case .complete, .closedByPeer, .failed:
                // Either both close_notifys are done already, or OpenSSL cannot send ours: close anyway,
                // the caller asked for a close, not for a clean one.
                self.state = .closed
                self.flushOutput(context: context)
                self.closeChannel(context: context)
            }
        case .closing:
            if let promise {
                if let closePromise = self.closePromise {
                    closePromise.futureResult.cascade(to: promise)
                } else {
                    self.closePromise = promise
                }
            }
        case .closed:
            context.close(promise: promise)
        }
    }

    private func scheduleShutdownTimeout(context: ChannelHandlerContext) -> Scheduled<Void> {
        context.eventLoop.assumeIsolated().scheduleTask(in: self.shutdownTimeout) {
            guard case .closing = self.state else {
                return
            }
            // The peer never answered our close_notify: close without it.
            self.state = .closed
            self.closeChannel(context: context)
        }
    }

    /// Encrypts every flushed write, then sends all the ciphertext as ONE write and flush whose promise
    /// completes every write it carries.
    private func unbufferWrites(context: ChannelHandlerContext) {
        guard case .active = self.state, self.flushedWriteCount > 0 else {
            return
        }
        var promises: [EventLoopPromise<Void>] = []
        // Small writes (a chat line each) are gathered into full records: one SSL_write, one record header,
        // one MAC per 16 KiB instead of per line. The gathering buffer lives only for this batch, so an idle
        // connection holds none.
        var gathered: ByteBuffer?
        while self.flushedWriteCount > 0, let write = self.pendingWrites.popFirst() {
            self.flushedWriteCount -= 1
            if let promise = write.promise {
                promises.append(promise)
            }
            var data = write.data
            if data.readableBytes < Self.recordSize {
                if gathered == nil {
                    gathered = context.channel.allocator.buffer(capacity: Self.recordSize)
                }
                if gathered!.readableBytes + data.readableBytes <= Self.recordSize {
                    gathered!.writeBuffer(&data)
                    continue
                }
            }
            // This write does not fit: send what is gathered, then this one (alone or as a new gathering).
            if let pending = gathered, pending.readableBytes > 0, !self.encrypt(pending, context, promises) {
                return
            }
            gathered?.clear()
            if data.readableBytes < Self.recordSize {
                gathered!.writeBuffer(&data)
            } else if !self.encrypt(data, context, promises) {
                return
            }
        }
        if let pending = gathered, pending.readableBytes > 0, !self.encrypt(pending, context, promises) {
            return
        }
        self.flushOutput(context: context, promise: Self.merge(promises, on: context.eventLoop))
    }

    /// The most plaintext one TLS record carries.
    private static let recordSize = 16 * 1024

    /// SSL_write of one buffer; on failure fails the batch and the connection and returns false.
    private func encrypt(_ data: ByteBuffer, _ context: ChannelHandlerContext, _ promises: [EventLoopPromise<Void>]) -> Bool {
        switch self.connection.write(data) {
        case .complete:
            return true
        case .incomplete, .closedByPeer:
            self.failWritesAndConnection(context: context, promises, TLSError.writeFailed("connection closed"))
            return false
        case .failed(let error):
            self.failWritesAndConnection(context: context, promises, error)
            return false
        }
    }

    private func failWritesAndConnection(
        context: ChannelHandlerContext,
        _ promises: [EventLoopPromise<Void>],
        _ error: TLSError
    ) {
        // Ciphertext of earlier writes in this batch may sit in the BIO, but a connection whose SSL_write
        // failed is dead: none of them will arrive. The handler is marked closed before the promises run
        // their callbacks, so a callback that writes again meets a closed handler, not a dead SSL.
        self.fail(context: context, error: error)
        for promise in promises {
            promise.fail(error)
        }
    }

    private static func merge(
        _ promises: [EventLoopPromise<Void>],
        on eventLoop: EventLoop
    ) -> EventLoopPromise<Void>? {
        switch promises.count {
        case 0:
            return nil
        case 1:
            return promises[0]
        default:
            // One callback that completes them all, rather than one cascade closure per promise.
            let merged = eventLoop.makePromise(of: Void.self)
            merged.futureResult.whenComplete { result in
                for promise in promises {
                    promise.completeWith(result)
                }
            }
            return merged
        }
    }

    // MARK: Helpers

    /// Writes and flushes whatever ciphertext OpenSSL has produced.
    private func flushOutput(context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        if let ciphertext = self.connection.dataForNetwork(allocator: context.channel.allocator) {
            context.writeAndFlush(Self.wrapOutboundOut(ciphertext), promise: promise)
        } else if let promise {
            // Only zero-length writes: still go through the pipeline so completion keeps write order.
            let empty = context.channel.allocator.buffer(capacity: 0)
            context.writeAndFlush(Self.wrapOutboundOut(empty), promise: promise)
        }
    }

    /// A fatal TLS error: report it once, drop pending writes, close.
    private func fail(context: ChannelHandlerContext, error: TLSError) {
        if case .closed = self.state {
            return
        }
        if case .closing(let timer) = self.state {
            timer.cancel()
        }
        self.state = .closed
        self.failPendingWrites(error)
        context.fireErrorCaught(error)
        self.closeChannel(context: context)
    }

    /// Closes the channel below us; `state` must already be `.closed`.
    private func closeChannel(context: ChannelHandlerContext) {
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        let promise = self.closePromise
        self.closePromise = nil
        context.close(promise: promise)
    }

    private func failPendingWrites(_ error: Error) {
        self.flushedWriteCount = 0
        while let write = self.pendingWrites.popFirst() {
            write.promise?.fail(error)
        }
    }
}

@available(*, unavailable)
extension OpenSSLHandler: Sendable {}
