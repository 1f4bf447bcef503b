import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 endpoint for monitoring: `GET /metrics` (Prometheus text) and `GET /healthz`.
///
/// It is off unless `--metrics-port` is given and binds to loopback unless told otherwise: it answers anyone
/// who can reach it, so it belongs behind a firewall or on 127.0.0.1. Even so it holds at most
/// `maximumConnections` connections (more are closed at once), and closes one that is silent (nothing read,
/// nothing written) for `idleTimeout`: a scraper asks and goes, and whoever opens connections and sends
/// nothing must not collect sockets.
struct MetricsHTTPServer: Sendable {
    /// A monitoring system scrapes with a connection or two; 16 leaves room for a person with curl.
    static let defaultMaximumConnections = 16
    static let defaultIdleTimeout = TimeAmount.seconds(10)

    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]
    }

    let channel: any Channel

    var port: Int? { channel.localAddress?.port }

    static func bind(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        maximumConnections: Int = defaultMaximumConnections,
        idleTimeout: TimeAmount = defaultIdleTimeout,
        respond: @escaping @Sendable (_ path: String) async -> Response
    ) async throws -> MetricsHTTPServer {
        let openConnections = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let admitted = openConnections.withLockedValue { count in
                    guard count < maximumConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in openConnections.withLockedValue { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                    try pipeline.addHandler(CloseWhenIdle())
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(RequestHandler(respond: respond))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsHTTPServer(channel: channel)
    }

    func close() async {
        try? await channel.close()
    }
}

/// Closes the connection when `IdleStateHandler` reports that nothing moved for the idle timeout.
private final class CloseWhenIdle: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension CloseWhenIdle: Sendable {}

private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: @Sendable (String) async -> MetricsHTTPServer.Response
    private var request: HTTPRequestHead?

    init(respond: @escaping @Sendable (String) async -> MetricsHTTPServer.Response) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // request bodies are ignored
        case .end:
            guard let head = request else { return }
            request = nil
            let path = String(head.uri.prefix { $0 != "?" })
            let respond = self.respond
            let method = head.method
            let keepAlive = head.isKeepAlive
            let version = head.version
            let future = context.eventLoop.makeFutureWithTask { () -> MetricsHTTPServer.Response in
                guard method == .GET || method == .HEAD else {
                    return .init(status: .methodNotAllowed, contentType: "text/plain", body: Array("GET only\n".utf8))
                }
                return await respond(path)
            }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            future.whenSuccess { response in
                let (handler, context) = loopBound.value
                handler.write(response, version: version, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func write(
        _ response: MetricsHTTPServer.Response,
        version: HTTPVersion,
        keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension RequestHandler: Sendable {}
