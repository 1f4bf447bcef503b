import NIOCore
import NIOPosix
import SecureChat

/// One connection of the `handshakes` scenario: connect, complete the TLS handshake (if any), wait for the
/// server's first line (the greeting, so a TLS 1.3 session ticket has arrived too), then report and close.
/// An IRC server greets nobody before registration: the probe sends `PING` to have it say one line.
final class HandshakeProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// What one probe saw.
    struct Outcome: Sendable {
        var resumed: Bool
        var session: TLSSession?
    }

    private let promise: EventLoopPromise<Outcome>
    /// Sent once connected, if the server says nothing first (``BenchProtocol/probeGreeting``).
    private let greeting: String?
    private var handshake: TLSHandshakeCompleted?
    private var finished = false

    init(promise: EventLoopPromise<Outcome>, greeting: String?) {
        self.promise = promise
        self.greeting = greeting
    }

    func channelActive(context: ChannelHandlerContext) {
        // On TLS the handler below holds this until its handshake is done.
        if let greeting {
            var buffer = context.channel.allocator.buffer(capacity: greeting.utf8.count)
            buffer.writeString(greeting)
            context.writeAndFlush(NIOAny(buffer), promise: nil)
        }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted { handshake = completed }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        let buffer = unwrapInboundIn(data)
        guard buffer.readableBytesView.contains(UInt8(ascii: "\n")) else { return }
        finished = true
        let tls = try? context.pipeline.syncOperations.handler(type: OpenSSLHandler.self)
        promise.succeed(Outcome(resumed: handshake?.sessionReused ?? false, session: tls?.resumableSession))
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished {
            finished = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            promise.fail(BenchError.closedBeforeLogin("handshake probe"))
        }
        context.fireChannelInactive()
    }
}

extension Connector {
    /// Opens one probe connection; the future completes once the server's first line has arrived. The
    /// channel's close future completes when the connection is fully closed.
    func probe(
        index: Int, target: BenchTarget, resuming session: TLSSession?
    ) -> EventLoopFuture<(HandshakeProbeHandler.Outcome, any Channel)> {
        let tls = target.tls
        let host = target.host
        let greeting = target.proto.probeGreeting
        // The promise is made before the connect, on the loop the channel will use: looking the handler up after
        // the connect raced with a server that closed at once (the pipeline was gone, and the real error with it).
        let loop = group.next()
        let promise = loop.makePromise(of: HandshakeProbeHandler.Outcome.self)
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(30))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        bootstrap = bootstrap.bindingSource(index, of: sourceAddresses)
        bootstrap = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    let handler = try OpenSSLHandler(
                        context: tls, mode: .client(serverHostname: host), resuming: session,
                        shutdownTimeout: .milliseconds(500)
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
                try channel.pipeline.syncOperations.addHandler(
                    HandshakeProbeHandler(promise: promise, greeting: greeting))
            }
        }
        let connected = bootstrap.connect(host: target.host, port: target.port)
        // A failed connect may never reach the handler: the promise fails with the connect's error (if the handler
        // failed it first, this second failure is ignored).
        connected.whenFailure { promise.fail($0) }
        return connected.flatMap { channel in promise.futureResult.map { ($0, channel) } }
    }
}
