import NIOCore

/// Which protocol a connection speaks, told by its first bytes.
enum ConnectionProtocol: Sendable, Equatable {
    /// The line protocol (`nc`, `openssl s_client`), greeted by the server.
    case line
    /// HTTP: a page, or a WebSocket upgrade.
    case web
}

/// Holds a new connection's first bytes until it is clear whether they are an HTTP request, then hands them on
/// and leaves the pipeline.
///
/// The line protocol has the server speak first, and a browser speaks first: so the greeting waits until the
/// client has sent something or `window` has passed. A browser's request comes at once (over TLS 1.3 in the
/// same flight as its handshake's end), so a silent client, `nc` or `openssl s_client`, waits `window` for
/// its greeting and nothing else changes. `GET ` cannot start a login: a username never contains a space.
///
/// Event-loop confined (`@unchecked Sendable` only so the decision's future can be handed around).
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What an HTTP request starts with: only GET is served, and any other method gets the line protocol's
    /// answer to a bad name.
    private static let httpStart: [UInt8] = Array("GET ".utf8)

    private let decided: EventLoopPromise<ConnectionProtocol>
    private var buffered: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    /// The decision was asked for (the session may start): from now on a read or the window decides.
    private var armed = false
    private var done = false

    init(eventLoop: any EventLoop) {
        decided = eventLoop.makePromise()
    }

    /// Starts the window (on the plaintext port at accept, on the TLS port once the handshake is done) and
    /// returns what the connection turns out to speak. Bytes that came before already count.
    func decide(within window: TimeAmount) -> EventLoopFuture<ConnectionProtocol> {
        let loop = decided.futureResult.eventLoop
        loop.execute { [self] in
            guard !done, !armed else { return }
            armed = true
            if let buffered, decideFrom(buffered) { return }
            timer = loop.scheduleTask(in: window) { [self] in finish(.line) }
        }
        return decided.futureResult
    }

    /// The decision is already known (a browser's TLS handshake agreed on `http/1.1`): hands on what came and
    /// leaves the pipeline without a wait.
    func decide(as decision: ConnectionProtocol) -> EventLoopFuture<ConnectionProtocol> {
        decided.futureResult.eventLoop.execute { [self] in finish(decision) }
        return decided.futureResult
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
        // Removed with the channel: nobody will speak.
        if !done {
            done = true
            decided.fail(ChannelError.ioOnClosedChannel)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        if armed { _ = decideFrom(buffered!) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A client that hung up before the window ended still gets its lines processed, as the line protocol does.
        // This handler stays in the pipeline: the end of input must pass through it, after the bytes.
        if !done { finish(.line, leavingPipeline: false) }
        context.fireChannelInactive()
    }

    /// Decides if `bytes` are enough to; true if it did.
    private func decideFrom(_ bytes: ByteBuffer) -> Bool {
        let view = bytes.readableBytesView
        let prefix = view.prefix(Self.httpStart.count)
        if !Self.httpStart.starts(with: prefix) || prefix.contains(UInt8(ascii: "\n")) {
            finish(.line)
            return true
        }
        guard prefix.count == Self.httpStart.count else { return false }
        finish(.web)
        return true
    }

    /// Tells the decision, then hands the bytes held on (to the handlers the decision put after this one) and
    /// leaves the pipeline.
    private func finish(_ decision: ConnectionProtocol, leavingPipeline: Bool = true) {
        guard !done else { return }
        done = true
        timer?.cancel()
        timer = nil
        decided.succeed(decision)
        guard let context else { return }
        if let buffered {
            self.buffered = nil
            context.fireChannelRead(wrapInboundOut(buffered))
        }
        if leavingPipeline { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }
}
