import NIOCore
import NIOWebSocket

/// Turns WebSocket frames into the lines a session reads, and the JSON lines an outbox writes into text frames;
/// answers pings, pings the client in turn, and closes as RFC 6455 asks.
///
/// Inbound, each text frame is one ``ClientMessage``: it becomes the line a terminal user would type. One that
/// is no request (bad JSON, an unknown type) is answered with an error through the outbox, whose bound holds
/// for these answers as for any; `invalidLimit` of them in a row close the connection (1008). Outbound, the outbox hands over batches of JSON objects, one
/// per line (``JSONRenderer``), and each line becomes one text frame.
///
/// Event-loop confined.
final class WebSocketMessageCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = InboundLine
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    /// Invalid messages in a row that end the connection: a client that speaks no JSON at all gets told a few
    /// times, not for ever.
    static let invalidLimit = 20

    private let maximumLineBytes: Int
    private let pingInterval: TimeAmount
    private let outbox: any ClientOutbox
    private var invalidInARow = 0
    private var pinger: RepeatedTask?
    private var awaitingPong = false
    private var closeSent = false
    /// The code of the close frame sent when the outbox closes the connection (after its last lines).
    private var closeCode = WebSocketErrorCode.normalClosure

    init(maximumLineBytes: Int, pingInterval: TimeAmount, outbox: any ClientOutbox) {
        self.maximumLineBytes = maximumLineBytes
        self.pingInterval = pingInterval
        self.outbox = outbox
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = context.loopBound
        let codec = NIOLoopBound(self, eventLoop: context.eventLoop)
        pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            codec.value.ping(loopBound.value)
        }
    }

    /// One tick of the keepalive.
    private func ping(_ context: ChannelHandlerContext) {
        // No answer to the last ping in a whole interval: the peer is gone, though no socket says so.
        if awaitingPong {
            close(context, code: .goingAway)
            return
        }
        awaitingPong = true
        context.writeAndFlush(
            wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer())), promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pinger?.cancel()
        pinger = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        pinger?.cancel()
        pinger = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // RFC 6455 5.1: a server closes a connection whose client sends an unmasked frame.
        guard frame.maskKey != nil else { return close(context, code: .protocolError) }
        switch frame.opcode {
        case .text:
            switch Self.line(from: frame.unmaskedData, limit: maximumLineBytes) {
            case .success(let line):
                invalidInARow = 0
                context.fireChannelRead(wrapInboundOut(line))
            case .failure(.invalid(let reason)):
                refuse(reason, context: context)
            }
        case .binary:
            refuse("Binary frames are not part of the protocol; send JSON objects as text.", context: context)
        case .ping:
            var pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            pong.maskKey = nil
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            awaitingPong = false
        case .connectionClose:
            close(context, code: .normalClosure)
        default:
            close(context, code: .protocolError)
        }
    }

    /// The session's line for one text frame, or why there is none.
    static func line(from payload: ByteBuffer, limit: Int) -> Result<InboundLine, ClientMessage.Problem> {
        ClientMessage.line(from: payload).map { request in
            if request.line.utf8.count > limit { return .overlong }
            let bytes = ByteBuffer(string: request.line)
            return request.role.map { .meant(bytes, as: $0) } ?? .line(bytes)
        }
    }

    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        invalidInARow += 1
        outbox.send(.error(reason))
        guard invalidInARow >= Self.invalidLimit else { return }
        // Through the outbox, so the answers already queued go out before the close frame.
        closeCode = .policyViolation
        outbox.close(reason: .flooding)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var batch = unwrapOutboundIn(data)
        if closeSent {
            promise?.succeed(())
            return
        }
        guard batch.readableBytes > 0 else {
            // The outbox's empty write before a close: its promise says that what was written before is out.
            // An unsolicited pong (RFC 6455 5.5.3: a heartbeat, ignored by clients) keeps it in that order.
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: batch)), promise: promise)
            return
        }
        while let end = batch.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let object = batch.readSlice(length: end - batch.readerIndex)!
            batch.moveReaderIndex(forwardBy: 1)
            let last = batch.readableBytes == 0
            context.write(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: object)), promise: last ? promise : nil)
            if last { return }
        }
        // A batch always ends in a newline; anything after the last one is still one object.
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: batch)), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // A close from the server side (the outbox, after its last lines) says goodbye in WebSocket terms first.
        if mode == .all, !closeSent {
            closeSent = true
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: closeCode)
            context.write(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Frames over --max-line, alone or in fragments: 1009; anything else malformed: 1002.
        switch error {
        case NIOWebSocketError.invalidFrameLength, NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            close(context, code: .messageTooLarge)
        default:
            close(context, code: .protocolError)
        }
    }

    private func close(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        if !closeSent {
            closeSent = true
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: code)
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        }
        context.close(promise: nil)
    }
}
