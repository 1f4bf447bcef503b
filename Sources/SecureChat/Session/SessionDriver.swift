import NIOConcurrencyHelpers
import NIOCore

/// The last handler of a client pipeline: queues the decoded lines and runs the connection's ``Session`` over
/// them, in order, in a task that exists only while there is something to do.
///
/// Why not `NIOAsyncChannel` and one long-lived task per connection: a task keeps every async frame its
/// session ever needed (the task allocator never gives slabs back before the task ends), about 10 kB per
/// connection plus the stream's state, for connections that mostly sit idle for hours. Here an idle
/// connection costs this handler, its small inbox and the `Session` object.
///
/// The contract with the session is the one `Session.run` had: `greet()` first, then `process(_:)` for every
/// line in arrival order until it returns false (the session is closing the connection) or the input ends
/// (the channel closed or failed; lines already received are still processed), then `end(readError:)`, then
/// the channel is closed and `onEnd` runs once the close is complete. Calls never overlap: at most one pump
/// task runs per connection, and a new one is only started after the previous one has let go (under the
/// lock), which also orders their memory effects.
///
/// Backpressure as `NIOAsyncChannel` did it: while `highWatermark` lines wait unprocessed, the handler holds
/// back `read()`, so the kernel buffers (and eventually the client blocks) instead of the server.
///
/// `@unchecked Sendable`: `inbox` is behind its lock; `context` and `pendingRead` are event-loop confined.
final class SessionDriver: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = InboundLine
    typealias OutboundIn = Any

    /// Unprocessed lines at which reading stops until the session catches up.
    static let highWatermark = 10

    private struct Inbox {
        /// An Array: empty, it allocates nothing.
        var lines: [InboundLine] = []
        var session: Session?
        var onEnd: (@Sendable () -> Void)?
        /// A pump task is running (or about to).
        var running = false
        /// The channel closed or failed: end the session once the queued lines are processed.
        var inputEnded = false
        var readError: (any Error)?
        /// The session is ending (it asked to close, or the input ended): further lines are dropped.
        var ending = false
        var readPaused = false
    }

    private let inbox = NIOLockedValueBox(Inbox())
    private let channel: any Channel

    // Event-loop confined.
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Starts the session (greeting first); lines that arrived before are processed after it. `onEnd` runs
    /// once the session has ended and the channel is closed. Call once.
    func start(_ session: Session, onEnd: @escaping @Sendable () -> Void) {
        inbox.withLockedValue {
            precondition($0.session == nil, "session started twice")
            $0.session = session
            $0.onEnd = onEnd
            $0.running = true
        }
        Task { await self.pump(session, greet: true) }
    }

    // MARK: - ChannelHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = Self.unwrapInboundIn(data)
        let session: Session? = inbox.withLockedValue { inbox in
            if inbox.ending || inbox.inputEnded { return nil }
            inbox.lines.append(line)
            if inbox.lines.count >= Self.highWatermark { inbox.readPaused = true }
            return Self.claimPump(&inbox)
        }
        if let session { Task { await self.pump(session, greet: false) } }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endInput(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The end of this connection's input, as NIOAsyncChannel's stream did it; not passed on.
        endInput(error: error)
    }

    func read(context: ChannelHandlerContext) {
        if inbox.withLockedValue({ $0.readPaused }) {
            pendingRead = true
        } else {
            context.read()
        }
    }

    private func endInput(error: (any Error)?) {
        let session: Session? = inbox.withLockedValue { inbox in
            if inbox.inputEnded { return nil }
            inbox.inputEnded = true
            inbox.readError = error
            return Self.claimPump(&inbox)
        }
        if let session { Task { await self.pump(session, greet: false) } }
    }

    /// Under the lock: if the session has started, has work and no pump is running, claims the pump.
    private static func claimPump(_ inbox: inout Inbox) -> Session? {
        guard let session = inbox.session, !inbox.running, !inbox.ending else { return nil }
        inbox.running = true
        return session
    }

    private func resumeReading() {
        guard pendingRead, let context, !inbox.withLockedValue({ $0.readPaused }) else { return }
        pendingRead = false
        context.read()
    }

    // MARK: - Pump

    private enum Step {
        case lines([InboundLine])
        case end(readError: (any Error)?)
        case idle
    }

    /// Runs the session until there is nothing left to do, then lets go (or ends the session).
    private func pump(_ session: Session, greet: Bool) async {
        if greet { await session.greet() }
        while true {
            let (step, resume): (Step, Bool) = inbox.withLockedValue { inbox in
                if !inbox.lines.isEmpty {
                    let batch = inbox.lines
                    inbox.lines = []
                    let resume = inbox.readPaused
                    inbox.readPaused = false
                    return (.lines(batch), resume)
                }
                if inbox.inputEnded {
                    inbox.ending = true
                    return (.end(readError: inbox.readError), false)
                }
                inbox.running = false
                return (.idle, false)
            }
            if resume { channel.eventLoop.execute { self.resumeReading() } }
            switch step {
            case .idle:
                return
            case .end(let readError):
                await finish(session, readError: readError)
                return
            case .lines(let batch):
                for line in batch {
                    if await session.process(line) { continue }
                    inbox.withLockedValue {
                        $0.ending = true
                        $0.lines = []
                    }
                    await finish(session, readError: nil)
                    return
                }
            }
        }
    }

    private func finish(_ session: Session, readError: (any Error)?) async {
        await session.end(readError: readError)
        let onEnd = inbox.withLockedValue { inbox in
            defer { inbox.onEnd = nil }
            return inbox.onEnd
        }
        // After an outbox close this lands behind its final write (both go through the event loop in order).
        channel.close(promise: nil)
        channel.closeFuture.whenComplete { _ in onEnd?() }
    }
}
