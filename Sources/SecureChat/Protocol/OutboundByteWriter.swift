import NIOCore

/// A channel handler that a connection's outbox may write to directly, past the handlers between them, because
/// none of them changes the bytes it writes: the `SocketWriter` of a plaintext connection, the `OpenSSLHandler` of
/// a TLS one. A write and a flush here are what a write and a flush down the pipeline would be when they reached
/// that handler; at light load, each delivery is spared a walk through the pipeline's other handlers, whose
/// contexts are cold in the cache by then.
///
/// Only on the channel's event loop. After the handler has left the pipeline a write fails with
/// `ChannelError.ioOnClosedChannel`, as it would down the pipeline.
protocol OutboundByteWriter: AnyObject {
    func write(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?)
    func flush()
}
