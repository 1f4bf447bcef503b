import NIOCore

/// Sits right behind `OpenSSLHandler` and turns its handshake outcome into a future the session awaits before
/// greeting: the greeting names the TLS version and cipher, and the hub needs the client-certificate fingerprint.
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let handshake: EventLoopPromise<TLSHandshakeCompleted>
    private var settled = false

    init(eventLoop: any EventLoop) {
        self.handshake = eventLoop.makePromise()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted, !settled {
            settled = true
            handshake.succeed(completed)
            context.fireUserInboundEventTriggered(event)
            // Its work is done: leaving the pipeline frees this handler, its context and the promise for the
            // rest of the connection's life. Later events flow past exactly as they did through it.
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !settled {
            settled = true
            // The server closes the connection through its outbox when the handshake future fails.
            handshake.fail(error)
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            handshake.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            handshake.fail(ChannelError.ioOnClosedChannel)
        }
    }
}

@available(*, unavailable)
extension TLSHandshakeObserver: Sendable {}
