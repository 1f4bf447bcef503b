import Logging
import NIOCore

/// A channel handler that speaks TLS over the channel with the system's OpenSSL: ciphertext below it,
/// plaintext `ByteBuffer`s above it.
///
/// - The handshake starts when the channel becomes active (or at once if it already is). When it
///   completes, a ``TLSHandshakeCompleted`` user inbound event is fired; ``handshakeInfo`` holds the
///   same value afterwards. Writes made earlier are held and sent after the handshake.
/// - Errors: a failed handshake or a corrupt record fires exactly one ``TLSError`` through
///   `fireErrorCaught` and closes the channel. A peer that disappears during the handshake fires one
///   ``TLSError`` with code ``TLSError/Code/eofDuringHandshake``.
/// - End of input: a close_notify from the peer fires ``TLSCloseNotifyReceived`` and then
///   `ChannelEvent.inputClosed` (the stream is complete: decoders may take a last unterminated message),
///   is answered, and the channel closed. A peer that disappears without close_notify after the handshake
///   fires ``TLSUncleanShutdown`` instead (no error: most clients leave that way, but the stream may have
///   been cut by an attacker anywhere, so a last unterminated message must not be trusted).
/// - `close(mode: .all)` sends close_notify and closes once the peer answers, or after
///   `shutdownTimeout`; a second close while waiting closes at once. Nothing received after our
///   close_notify is passed on. Half-closure (`.output`, `.input`) is not supported.
/// - Abuse: reads are held while the channel is not writable, so a peer that does not read cannot make us
///   buffer replies; a peer that sends more than 5 KeyUpdates or renegotiation attempts a second, or
///   leaves more than 64 KiB of TLS's own output (KeyUpdate replies, alerts, tickets) unsent, is
///   disconnected with ``TLSError/Code/peerAbuse`` (see `TLSAbuseGuard`).
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

    /// The limits in force; tests loosen one to reach the other.
    var abuseLimits: TLSAbuseGuard.Limits {
        get { self.abuseGuard.limits }
        set { self.abuseGuard.limits = newValue }
    }

    private var state: State = .idle
    private let connection: SSLConnection
    private let shutdownTimeout: TimeAmount
    private let counters: ServerCounters?
    /// Builds its logger only when something is logged: a `Logger` with a connection's metadata is half a
    /// kilobyte that every idle TLS connection would otherwise carry.
    private let log: ConnectionLog?
    /// A `read()` held back because the channel was not writable; issued when it becomes writable again.
    private var readHeld = false
    /// Whether ``handshakeInfo`` has anything to say (kept beside `readHeld`, where it takes no room of its own).
    private var handshakeCompleted = false
    private var abuseGuard = TLSAbuseGuard()
    /// Writes not yet handed to OpenSSL: everything before the handshake completes, and unflushed
    /// writes afterwards. The first `flushedWriteCount` of them have been flushed by the user.
    private var pendingWrites = PendingWrites()
    private var flushedWriteCount = 0
    private var closePromise: EventLoopPromise<Void>?
    /// Kept while in the pipeline, for the outbox's direct writes (`OutboundByteWriter`).
    private var context: ChannelHandlerContext?
    /// The handler right below, if it takes writes directly (the connection's socket writer).
    private let output: (any OutboundByteWriter)?
    /// The channel's allocator, kept by the connection at `handlerAdded`: `context.channel` costs a retain and a
    /// pipeline walk on every flush, about 2 % of a light-load TLS delivery.
    private var allocator: ByteBufferAllocator {
        self.connection.allocator
    }

    /// What was negotiated, once the handshake has completed; `nil` before.
    /// Read from the connection when asked (only tests ask), not stored: every idle TLS connection would otherwise
    /// keep a copy of what its session already holds.
    public var handshakeInfo: TLSHandshakeCompleted? {
        self.handshakeCompleted ? self.connection.handshakeInfo() : nil
    }

    /// - Parameters:
    ///   - context: a ``TLSContext`` made by `TLSContext.server` for `.server`, `TLSContext.client` for
    ///     `.client`.
    ///   - session: client only: a session from an earlier connection to the same server, to resume.
    ///   - shutdownTimeout: how long to wait for the peer's close_notify after sending ours.
    ///   - counters: where unclean shutdowns and abuse disconnects are counted, if anywhere.
    ///   - logger: where an abuse disconnect is logged with its reason, if anywhere.
    /// - Throws: ``TLSError`` if the mode does not match the context or OpenSSL cannot make a connection.
    public convenience init(
        context: TLSContext,
        mode: Mode,
        resuming session: TLSSession? = nil,
        shutdownTimeout: TimeAmount = .seconds(5),
        counters: ServerCounters? = nil,
        logger: Logger? = nil
    ) throws {
        try self.init(
            context: context, mode: mode, resuming: session, shutdownTimeout: shutdownTimeout, counters: counters,
            log: logger.map { ConnectionLog(plain: $0) })
    }

    /// The server's own: `log` adds the connection's metadata only to what is logged. `output`, if given, is the
    /// handler right below this one, which it writes its ciphertext to directly instead of down the pipeline.
    init(
        context: TLSContext,
        mode: Mode,
        resuming session: TLSSession? = nil,
        shutdownTimeout: TimeAmount = .seconds(5),
        counters: ServerCounters? = nil,
        log: ConnectionLog?,
        output: (any OutboundByteWriter)? = nil
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
        self.counters = counters
        self.log = log
        self.output = output
    }

    /// The session of this (client) connection, if it can be resumed by a later connection. With TLS 1.3
    /// it is available once the server's session ticket has arrived, shortly after the handshake.
    public var resumableSession: TLSSession? {
        self.connection.resumableSession()
    }

    /// Bytes held for this connection's ciphertext (tests check that idle connections stay small).
    var bufferedAllocation: Int {
        self.connection.bufferedAllocation
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.connection.allocator = context.channel.allocator
        if context.channel.isActive {
            self.startHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
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
        var unclean = false
        switch oldState {
        case .idle, .closed:
            break
        case .active:
            // No close_notify: not worth an error (most clients leave this way), but worth saying, so
            // nothing above takes a cut-off stream for a complete one. The session itself is sound: keep it
            // resumable (only the stream's tail is in doubt, and the line decoder drops that).
            unclean = true
            self.connection.keepSessionAfterUncleanEnd()
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
        if unclean {
            self.counters?.increment(.tlsUncleanShutdown)
            context.fireUserInboundEventTriggered(TLSUncleanShutdown())
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
        self.connection.consumeDataFromNetwork(ciphertext)
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
        self.handshakeCompleted = true
        let info = self.connection.handshakeInfo()
        // KeyUpdates cannot precede the handshake's end; start counting afresh.
        _ = self.connection.takePeerRequests()
        self.flushOutput(context: context, control: true)
        // Writing may have failed and closed the channel under us.
        guard case .active = self.state else {
            return
        }
        context.fireUserInboundEventTriggered(info)
        // The event ran user code, which may have closed the channel.
        guard case .active = self.state else {
            return
        }
        // Application data (or a session ticket) may have arrived with the last handshake flight.
        self.decodeData(context: context)
        guard case .active = self.state else {
            return
        }
        self.unbufferWrites(context: context)
    }

    private enum ReadOutcome {
        case needMoreData
        case closedByPeer
        case failed(TLSError)
    }

    /// Decrypts everything OpenSSL can, then passes it on as one buffer (only while `.active`: after our
    /// close_notify, records are decrypted only to find the peer's).
    private func decodeData(context: ChannelHandlerContext) {
        var plaintext = self.allocator.buffer(capacity: 0)
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
        // Checked before the replies are sent: a flood's replies are dropped with the connection.
        if let abuse = self.abuseGuard.peerRequests(self.connection.takePeerRequests(), at: .now()) {
            self.disconnectAbuser(context: context, abuse)
            return
        }
        // Reading may have produced output: TLS 1.3 key-update replies, alerts.
        self.flushOutput(context: context, control: true)
        guard case .active = self.state else {
            // Closing (input after our close_notify is not passed on) or closed by the write above.
            if case .closing = self.state, case .closedByPeer = outcome {
                self.peerAnsweredCloseNotify(context: context)
            } else if case .closing = self.state, case .failed(let error) = outcome {
                self.fail(context: context, error: error)
            }
            return
        }
        // Each SSL_read reserves a full record (16 KiB); a few bytes of a half-typed line must not pin that
        // (or twice that) until the line is finished: hand on a right-sized copy instead.
        if plaintext.capacity - plaintext.readableBytes > 4096 {
            var compact = self.allocator.buffer(capacity: plaintext.readableBytes)
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

    /// The peer ended its side cleanly while we were `.active` (or user code has closed us meanwhile).
    private func peerSentCloseNotify(context: ChannelHandlerContext) {
        guard self.isStillActiveAfterCallOut(context: context) else {
            return
        }
        context.fireUserInboundEventTriggered(TLSCloseNotifyReceived())
        guard self.isStillActiveAfterCallOut(context: context) else {
            return
        }
        // The input is complete and authentic: a decoder may take its last, unterminated message.
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        guard self.isStillActiveAfterCallOut(context: context) else {
            return
        }
        // Answer with ours, then close. Writes not yet flushed can no longer be sent.
        self.state = .closed
        _ = self.connection.shutdown()
        self.flushOutput(context: context)
        self.closeChannel(context: context)
    }

    /// Whether we are still `.active` after user code ran. If that code closed us (we sent close_notify and
    /// are `.closing`), the peer's close_notify is already here: the shutdown completes now, cleanly.
    private func isStillActiveAfterCallOut(context: ChannelHandlerContext) -> Bool {
        switch self.state {
        case .active:
            return true
        case .closing:
            self.peerAnsweredCloseNotify(context: context)
            return false
        case .idle, .handshaking, .closed:
            return false
        }
    }

    /// The peer's close_notify arrived while we were `.closing`: a clean shutdown.
    private func peerAnsweredCloseNotify(context: ChannelHandlerContext) {
        guard case .closing(let timer) = self.state else {
            return
        }
        timer.cancel()
        self.state = .closed
        _ = self.connection.shutdown()
        context.fireUserInboundEventTriggered(TLSCloseNotifyReceived())
        self.closeChannel(context: context)
    }

    private func disconnectAbuser(context: ChannelHandlerContext, _ error: TLSError) {
        guard !self.isClosed else {
            return
        }
        self.counters?.increment(.tlsPeerAbuse)
        self.log?.log(.notice, "disconnecting TLS peer", metadata: ["reason": "\(error.reason)"])
        self.fail(context: context, error: error)
    }

    private var isClosed: Bool {
        if case .closed = self.state { true } else { false }
    }

    // MARK: Backpressure

    public func read(context: ChannelHandlerContext) {
        // Every read may make OpenSSL answer (KeyUpdate, alerts). While the peer does not take what we send,
        // it gets nothing more read, so it cannot make us queue answers without bound.
        guard context.channel.isWritable else {
            self.readHeld = true
            return
        }
        context.read()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        let resume = self.readHeld && context.channel.isWritable
        if resume {
            self.readHeld = false
        }
        context.fireChannelWritabilityChanged()
        if resume, !self.isClosed {
            context.read()
        }
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.hold(Self.unwrapOutboundIn(data), promise: promise)
    }

    private func hold(_ data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        switch self.state {
        case .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        case .closing:
            promise?.fail(ChannelError.outputClosed)
        case .idle, .handshaking, .active:
            self.pendingWrites.append((data: data, promise: promise))
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
        // Every branch settles `state` before calling out (failing writes runs their callbacks, which may
        // close again), so a nested close finds `.closing` or `.closed`, never a second `.active`.
        switch self.state {
        case .idle, .handshaking:
            // OpenSSL cannot send close_notify mid-handshake, and there is no session to end cleanly.
            self.state = .closed
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(promise: promise)
        case .active:
            self.closePromise = promise
            switch self.connection.shutdown() {
            case .incomplete:
                self.state = .closing(self.scheduleShutdownTimeout(context: context))
                self.flushOutput(context: context)
                // Flushed writes are already encrypted and sent; unflushed ones die with the channel, as
                // they would on a plain socket.
                self.failPendingWrites(ChannelError.ioOnClosedChannel)
            case .complete, .closedByPeer, .failed:
                // Either both close_notifys are done already, or OpenSSL cannot send ours: close anyway,
                // the caller asked for a close, not for a clean one.
                self.state = .closed
                self.flushOutput(context: context)
                self.closeChannel(context: context)
            }
        case .closing(let timer):
            // Asked again while waiting for the peer: the closer wants it gone now, not in `shutdownTimeout`.
            timer.cancel()
            self.state = .closed
            if let promise {
                if let closePromise = self.closePromise {
                    closePromise.futureResult.cascade(to: promise)
                } else {
                    self.closePromise = promise
                }
            }
            self.closeChannel(context: context)
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
        // Several small writes (a chat line each) are gathered into full records: one SSL_write, one record
        // header, one MAC per 16 KiB instead of per line. The gathering buffer lives only for this batch, so an
        // idle connection holds none.
        var gathered: ByteBuffer?
        while self.flushedWriteCount > 0, let write = self.pendingWrites.popFirst() {
            self.flushedWriteCount -= 1
            if let promise = write.promise {
                promises.append(promise)
            }
            var data = write.data
            // The usual flush carries one write (the outbox coalesces a batch into one buffer): encrypt it
            // where it is, without copying it into a gathering buffer first.
            if gathered == nil, self.flushedWriteCount == 0 {
                if !self.encrypt(data, context, promises) {
                    return
                }
                break
            }
            if data.readableBytes < Self.recordSize {
                if gathered == nil {
                    gathered = self.allocator.buffer(capacity: Self.recordSize)
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
    private func encrypt(_ data: ByteBuffer, _ context: ChannelHandlerContext, _ promises: [EventLoopPromise<Void>])
        -> Bool
    {
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

    /// Writes and flushes whatever ciphertext OpenSSL has produced. `control`: the output is TLS's own (not
    /// from an application write), counted against `TLSAbuseGuard` until the socket takes it.
    private func flushOutput(
        context: ChannelHandlerContext,
        promise: EventLoopPromise<Void>? = nil,
        control: Bool = false
    ) {
        if let ciphertext = self.connection.dataForNetwork() {
            guard control else {
                self.send(ciphertext, context: context, promise: promise)
                return
            }
            let size = ciphertext.readableBytes
            if let abuse = self.abuseGuard.controlOutputQueued(size) {
                self.disconnectAbuser(context: context, abuse)
                return
            }
            let written = promise ?? context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { _ in
                self.abuseGuard.controlOutputDone(size)
            }
            self.send(ciphertext, context: context, promise: written)
        } else if let promise {
            // Only zero-length writes: still go through the pipeline so completion keeps write order.
            let empty = self.allocator.buffer(capacity: 0)
            self.send(empty, context: context, promise: promise)
        }
    }

    /// Writes and flushes ciphertext: to `output` directly where there is one, else down the pipeline.
    private func send(_ ciphertext: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let output = self.output {
            output.write(ciphertext, promise: promise)
            output.flush()
        } else {
            context.writeAndFlush(Self.wrapOutboundOut(ciphertext), promise: promise)
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

extension OpenSSLHandler: OutboundByteWriter {
    /// A write straight from the connection's outbox (a TLS line session), as if it had come down the pipeline.
    func write(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard self.context != nil else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        self.hold(buffer, promise: promise)
    }

    func flush() {
        if let context = self.context {
            self.flush(context: context)
        }
    }
}
