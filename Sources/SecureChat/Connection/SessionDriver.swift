import NIOConcurrencyHelpers
import NIOCore

/// The last handler of a client pipeline: queues the decoded lines and runs the connection's ``Session`` over
/// them, in order, in a task that exists only while there is something to do. It also owns the connection's
/// two session timers: the login timeout (armed at accept, stopped at login) and the idle monitor.
///
/// Why not `NIOAsyncChannel` and one long-lived task per connection: a task keeps every async frame its
/// session ever needed (the task allocator never gives slabs back before the task ends), about 10 kB per
/// connection plus the stream's state, for connections that mostly sit idle for hours. Here an idle
/// connection costs this handler, its small inbox and the session's state machine.
///
/// The contract with the session: `greet` first, then `process` for every line in arrival order until the
/// session closes the connection or the input ends (lines already received are still processed), then `end`;
/// then the outbox closes the channel, and `onEnd` runs once the close is complete. Calls never overlap: the
/// state machine lives in the inbox while no pump runs, and a pump takes it out (under the lock) before it
/// runs and puts it back before it lets go, so exactly one task holds it at a time.
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
        enum Phase {
            /// Lines queue until the session starts (on the TLS port, after the handshake).
            case notStarted
            /// No pump runs; the next line or the end of input starts one with this session and machine.
            case idle(Session, SessionStateMachine)
            /// A pump holds the session's machine.
            case running
            /// The session has ended or is ending: further lines are dropped.
            case ended
        }

        var phase = Phase.notStarted
        /// An Array: empty, it allocates nothing.
        var lines: [InboundLine] = []
        /// Set when the channel closed or failed: the session ends once the queued lines are processed.
        var inputEnd: InputEnd?
        var readPaused = false
        /// Run once the session has ended and the channel is closed.
        var onEnd: (@Sendable () -> Void)?

        /// If a session is idle and has work, claims the pump for the caller.
        mutating func claimPump() -> (Session, SessionStateMachine)? {
            guard case .idle(let session, let machine) = phase else { return nil }
            phase = .running
            return (session, machine)
        }
    }

    /// How the input ended.
    private enum InputEnd {
        case closed
        case failed(any Error)

        var error: (any Error)? {
            if case .failed(let error) = self { return error }
            return nil
        }
    }

    private let inbox = NIOLockedValueBox(Inbox())
    private let outbox: Outbox
    private let timers: SessionTimers

    // Event-loop confined.
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    init(outbox: Outbox, timers: SessionTimers) {
        self.outbox = outbox
        self.timers = timers
    }

    /// Starts the session (greeting first); lines that arrived before are processed after it. `onEnd` runs
    /// once the session has ended and the channel is closed. Call once.
    func start(_ session: Session, onEnd: @escaping @Sendable () -> Void) {
        inbox.withLockedValue {
            guard case .notStarted = $0.phase else { preconditionFailure("session started twice") }
            $0.phase = .running
            $0.onEnd = onEnd
        }
        Task { await self.pump(session, session.makeMachine(), greet: true) }
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
        let claimed: (Session, SessionStateMachine)? = inbox.withLockedValue { inbox in
            if case .ended = inbox.phase { return nil }
            if inbox.inputEnd != nil { return nil }
            inbox.lines.append(line)
            if inbox.lines.count >= Self.highWatermark { inbox.readPaused = true }
            return inbox.claimPump()
        }
        if let (session, machine) = claimed { Task { await self.pump(session, machine, greet: false) } }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endInput(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The end of this connection's input, as NIOAsyncChannel's stream did it; not passed on.
        endInput(.failed(error))
    }

    func read(context: ChannelHandlerContext) {
        if inbox.withLockedValue({ $0.readPaused }) {
            pendingRead = true
        } else {
            context.read()
        }
    }

    private func endInput(_ end: InputEnd) {
        let claimed: (Session, SessionStateMachine)? = inbox.withLockedValue { inbox in
            if inbox.inputEnd != nil { return nil }
            inbox.inputEnd = end
            return inbox.claimPump()
        }
        if let (session, machine) = claimed { Task { await self.pump(session, machine, greet: false) } }
    }

    private func resumeReading() {
        guard pendingRead, let context, !inbox.withLockedValue({ $0.readPaused }) else { return }
        pendingRead = false
        context.read()
    }

    // MARK: - Pump

    private enum Step {
        case lines([InboundLine])
        case end(InputEnd)
        case idle
    }

    /// Runs the session until there is nothing left to do, then lets go (or ends the session).
    private func pump(_ session: Session, _ machine: SessionStateMachine, greet: Bool) async {
        var machine = machine
        if greet { await session.greet(machine) }
        while true {
            let (step, resume): (Step, Bool) = inbox.withLockedValue { inbox in
                if !inbox.lines.isEmpty {
                    let batch = inbox.lines
                    inbox.lines = []
                    let resume = inbox.readPaused
                    inbox.readPaused = false
                    return (.lines(batch), resume)
                }
                if let end = inbox.inputEnd {
                    inbox.phase = .ended
                    return (.end(end), false)
                }
                inbox.phase = .idle(session, machine)
                return (.idle, false)
            }
            if resume { outbox.eventLoop.execute { self.resumeReading() } }
            switch step {
            case .idle:
                return
            case .end(let end):
                await finish(session, machine, reason: outbox.closeReason ?? .connectionClosed, readError: end.error)
                return
            case .lines(let batch):
                for line in batch {
                    // Once the server has decided to close (a timeout, a kick, an overflow), queued lines do
                    // nothing more: a name must not log in a connection that is going away. Lines a peer sent
                    // before hanging up are still processed, as `printf 'alice\nhi\n' | nc` expects.
                    if let reason = outbox.closeReason {
                        endSession()
                        await finish(session, machine, reason: reason, readError: nil)
                        return
                    }
                    let progress: Session.Progress
                    (machine, progress) = await session.process(line, machine)
                    if progress.contains(.loggedIn) { timers.loggedIn() }
                    if progress.contains(.active) { timers.active() }
                    guard progress.contains(.closing) else { continue }
                    endSession()
                    guard case .closing(let reason) = machine.state else {
                        preconditionFailure("closing without a reason")
                    }
                    await finish(session, machine, reason: reason, readError: nil)
                    return
                }
            }
        }
    }

    /// No more lines for this session. Reading resumes if it was held, so that a TLS close_notify from the
    /// peer can still arrive and the close need not wait for its timeout.
    private func endSession() {
        let resume: Bool = inbox.withLockedValue { inbox in
            inbox.phase = .ended
            inbox.lines = []
            let paused = inbox.readPaused
            inbox.readPaused = false
            return paused
        }
        if resume { outbox.eventLoop.execute { self.resumeReading() } }
    }

    private func finish(
        _ session: Session,
        _ machine: SessionStateMachine,
        reason: CloseReason,
        readError: (any Error)?
    ) async {
        timers.stop()
        await session.end(machine, reason: reason, readError: readError)
        // After the session's own close this does nothing; after a read error it closes the channel.
        outbox.close(reason: reason)
        let onEnd = inbox.withLockedValue { inbox in
            defer { inbox.onEnd = nil }
            return inbox.onEnd
        }
        outbox.closeFuture.whenComplete { _ in onEnd?() }
    }
}
