import NIOCore

#if compiler(>=6.2)
    /// What ``LoginClientHandler`` refines: a channel handler whose type may be named in the `@Sendable`
    /// closures that open and drive its connection (a generic handler's metatype is not `Sendable` otherwise).
    public typealias SendableMetatypeInboundHandler = ChannelInboundHandler & SendableMetatype
#else
    /// What ``LoginClientHandler`` refines: before Swift 6.2 every metatype is `Sendable`.
    public typealias SendableMetatypeInboundHandler = ChannelInboundHandler
#endif

/// What ``Connector`` needs of a client handler to open a connection with it: a handler that logs in as
/// `name` by itself once the server prompts, and whose closes can be marked as intended.
/// ``BenchClientHandler`` and ``ScriptedClientHandler`` are the two.
public protocol LoginClientHandler: SendableMetatypeInboundHandler {
    /// - Parameters:
    ///   - name: the username to log in with.
    ///   - shard: the counters of this channel's event loop.
    ///   - loginPromise: succeeded at the welcome line, failed on an error line or a close before it.
    init(name: String, shard: LoopShard, loginPromise: EventLoopPromise<Void>)
    /// Completes at the welcome line.
    var loginFuture: EventLoopFuture<Void> { get }
    /// Set before a close the client intends, so that it is not counted as a failure.
    var closingExpected: Bool { get set }
}

/// A client connection and its handler, usable from any thread: the handler lives on the channel's event
/// loop, so it is reached through ``onLoop(_:)``. ``BenchConnection`` and ``ScriptedConnection`` add what
/// their kind of client does.
public struct ClientConnection<Handler: LoginClientHandler>: Sendable {
    public let channel: any Channel
    public let handler: NIOLoopBound<Handler>
    /// Completes at the welcome line.
    public let loggedIn: EventLoopFuture<Void>

    /// Runs `body` on the connection's event loop with its handler.
    public func onLoop<T: Sendable>(
        _ body: @escaping @Sendable (Handler) throws -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let handler = self.handler
        return channel.eventLoop.flatSubmit {
            do { return try body(handler.value) } catch { return self.channel.eventLoop.makeFailedFuture(error) }
        }
    }

    /// Marks the close as expected (on the loop, before it happens, so the handler does not count it as a
    /// failure) and closes. Fails if the channel was already closed; each caller decides what that means.
    func closeAsExpected() -> EventLoopFuture<Void> {
        let channel = self.channel
        return onLoop { handler in
            handler.closingExpected = true
            return channel.close()
        }
    }
}
