import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 endpoint for monitoring: `GET /metrics` (Prometheus text) and `GET /healthz`.
///
/// It is off unless `--metrics-port` is given and binds to loopback unless told otherwise: it answers anyone
/// who can reach it, so it belongs behind a firewall or on 127.0.0.1.
struct MetricsHTTPServer: Sendable {
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
        respond: @escaping @Sendable (_ path: String) async -> Response
    ) async throws -> MetricsHTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(respond: respond))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsHTTPServer(channel: channel)
    }

    func close() async {
        try? await channel.close()
    }
}

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
