import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The HTTP side of a connection that began with a request: serves the page (``WebPage``) and upgrades
/// `GET /ws` to a WebSocket, after which the connection is a chat client like any other, speaking JSON.
///
/// It sits before the connection's ``Outbox``. Until the upgrade nothing may reach the HTTP encoder but
/// responses, so lines the outbox is asked to send meanwhile (a shutdown notice) are dropped here.
///
/// Event-loop confined.
final class WebRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTPServerResponsePart

    /// The strictest policy the page works under: its own script, style and WebSocket, nothing inline, no frames.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private let settings: WebSettings
    private let secure: Bool
    private let maximumLineBytes: Int
    private let outbox: any ClientOutbox
    /// Called once the pipeline speaks WebSocket: starts the session.
    private let onUpgrade: () -> Void
    private var request: HTTPRequestHead?
    private var served = 0

    init(
        settings: WebSettings, secure: Bool, maximumLineBytes: Int, outbox: any ClientOutbox,
        onUpgrade: @escaping () -> Void
    ) {
        self.settings = settings
        self.outbox = outbox
        self.secure = secure
        self.maximumLineBytes = maximumLineBytes
        self.onUpgrade = onUpgrade
    }

    /// Puts the HTTP handlers where the line decoder was: right after the sniffer, which hands them the request.
    static func install(_ handler: WebRequestHandler, in channel: any Channel, after sniffer: ProtocolSniffer) throws {
        let pipeline = channel.pipeline.syncOperations
        let lineDecoder = try pipeline.context(name: LineDecoder.handlerName)
        pipeline.removeHandler(context: lineDecoder, promise: nil)
        try pipeline.addHandlers(
            [
                HTTPResponseEncoder(),
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
                // A request that does not parse gets 400 and a close.
                HTTPServerProtocolErrorHandler(),
                handler,
            ],
            position: .after(sniffer))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            // No route takes a body; it is read and dropped (the decoder bounds what it holds).
            break
        case .end:
            guard let head = request else { return }
            request = nil
            served += 1
            respond(to: head, context: context)
        }
    }

    /// Lines from the outbox before the upgrade: there is no session yet that could have asked for them.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.succeed(())
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive && served < settings.requestsPerConnection
        guard head.method == .GET || head.method == .HEAD else {
            return send(.methodNotAllowed, text: "GET only.\n", keepAlive: keepAlive, head: head, context: context)
        }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch path {
        case "/":
            send(
                .ok, WebPage.html, type: "text/html; charset=utf-8", keepAlive: keepAlive, head: head, context: context)
        case "/app.js":
            send(
                .ok, WebPage.script, type: "text/javascript; charset=utf-8", keepAlive: keepAlive, head: head,
                context: context)
        case "/app.css":
            send(
                .ok, WebPage.style, type: "text/css; charset=utf-8", keepAlive: keepAlive, head: head, context: context)
        case "/ws": upgrade(head, context: context)
        default: send(.notFound, text: "Not found.\n", keepAlive: keepAlive, head: head, context: context)
        }
    }

    private func upgrade(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch WebSocketHandshake.accept(head, allowedOrigins: settings.allowedOrigins, secure: secure) {
        case .failure(let refusal):
            var extra = HTTPHeaders()
            if refusal == .unsupportedVersion { extra.add(name: "Sec-WebSocket-Version", value: "13") }
            send(refusal.status, text: refusal.message, keepAlive: false, head: head, context: context, extra: extra)
        case .success(let accept):
            var headers = HTTPHeaders()
            headers.add(name: "Upgrade", value: "websocket")
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Sec-WebSocket-Accept", value: accept)
            let response = HTTPResponseHead(version: head.version, status: .switchingProtocols, headers: headers)
            // Encoded into bytes as it is written: the HTTP handlers can go at once.
            context.writeAndFlush(wrapOutboundOut(.head(response)), promise: nil)
            do {
                try switchToWebSocket(context: context)
            } catch {
                context.close(promise: nil)
                return
            }
            onUpgrade()
        }
    }

    /// Replaces the HTTP handlers with WebSocket framing and the JSON codec, in front of the outbox.
    private func switchToWebSocket(context: ChannelHandlerContext) throws {
        let pipeline = context.pipeline.syncOperations
        let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
        let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        let errors = try pipeline.handler(type: HTTPServerProtocolErrorHandler.self)
        try pipeline.addHandlers(
            [
                WebSocketFrameEncoder(),
                // A frame no longer than a line may be (its JSON wrapping counts against it).
                ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maximumLineBytes)),
                NIOWebSocketFrameAggregator(
                    minNonFinalFragmentSize: 1, maxAccumulatedFrameCount: 16,
                    maxAccumulatedFrameSize: maximumLineBytes),
                WebSocketMessageCodec(
                    maximumLineBytes: maximumLineBytes, pingInterval: settings.pingInterval, outbox: outbox),
            ],
            position: .after(context.handler))
        pipeline.removeHandler(context: context, promise: nil)
        pipeline.removeHandler(errors, promise: nil)
        pipeline.removeHandler(decoder, promise: nil)
        pipeline.removeHandler(encoder, promise: nil)
    }

    private func send(
        _ status: HTTPResponseStatus, text: String, keepAlive: Bool, head: HTTPRequestHead,
        context: ChannelHandlerContext, extra: HTTPHeaders = [:]
    ) {
        send(
            status, text, type: "text/plain; charset=utf-8", keepAlive: keepAlive, head: head, context: context,
            extra: extra)
    }

    private func send(
        _ status: HTTPResponseStatus, _ body: String, type: String, keepAlive: Bool, head: HTTPRequestHead,
        context: ChannelHandlerContext, extra: HTTPHeaders = [:]
    ) {
        var headers = extra
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Content-Security-Policy", value: Self.contentSecurityPolicy)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "X-Frame-Options", value: "DENY")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        if !keepAlive {
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
