import NIOConcurrencyHelpers
import NIOCore

/// The last handler of a client pipeline's inbound path (only the ``Outbox`` is behind it, for the channel's
/// events; no line reaches it): queues the decoded lines and runs the connection's ``Session`` over
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
/// then the outbox closes the channel, and `onEnd` runs once the close is complete. Only `process` and the
/// `end` of a logged-in user need the hub, and only they run in a task: the greeting, and the end of a
/// connection that never logged in, run where they happen. Calls never overlap: the
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

        /// If a session is idle and has work, claims it for the caller: queued lines (which may log in) need
        /// a pump; the end of a connection that never logged in needs nothing from the hub and happens at once.
        mutating func claimWork() -> Work {
            guard case .idle(let session, let machine) = phase else { return .none }
            if lines.isEmpty {
                guard let end = inputEnd else { return .none }
                if !machine.isLoggedIn {
                    phase = .ended
                    return .endNow(session, end)
                }
            }
            phase = .running
            return .pump(session, machine)
        }
    }

    /// What a claim of an idle session found to do.
    private enum Work {
        case none
        case pump(Session, SessionStateMachine)
        /// The input ended before login: no hub, no task.
        case endNow(Session, InputEnd)
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
    ///
    /// The greeting goes out here, from the caller's thread, without a task: it needs nothing from the hub but
    /// its member count, which the hub publishes. Most connections a server on the internet sees never send a
    /// line (scanners, probes, health checks), and those now cost no task at all.
    func start(_ session: Session, onEnd: @escaping @Sendable () -> Void) {
        let machine = session.makeMachine()
        session.greet(machine)
        let work = inbox.withLockedValue {
            guard case .notStarted = $0.phase else { preconditionFailure("session started twice") }
            $0.phase = .idle(session, machine)
            $0.onEnd = onEnd
            return $0.claimWork()
        }
        run(work)
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
        let work: Work = inbox.withLockedValue { inbox in
            if case .ended = inbox.phase { return .none }
            if inbox.inputEnd != nil { return .none }
            inbox.lines.append(line)
            if inbox.lines.count >= Self.highWatermark { inbox.readPaused = true }
            return inbox.claimWork()
        }
        run(work)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The outbox behind this handler learns first that the channel is gone (it stops taking lines, and a
        // close asked for afterwards is not counted as a reason of its own), then the input ends.
        context.fireChannelInactive()
        endInput(.closed)
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
        let work: Work = inbox.withLockedValue { inbox in
            if inbox.inputEnd != nil { return .none }
            inbox.inputEnd = end
            return inbox.claimWork()
        }
        run(work)
    }

    private func run(_ work: Work) {
        switch work {
        case .none:
            return
        case .pump(let session, let machine):
            Task { await self.pump(session, machine) }
        case .endNow(let session, let end):
            timers.stop()
            let reason = outbox.closeReason ?? .connectionClosed
            session.logEnd(reason: reason, readError: end.error)
            closeAndReportEnd(reason: reason)
        }
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
    private func pump(_ session: Session, _ machine: SessionStateMachine) async {
        var machine = machine
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
                await finish(session, reason: outbox.closeReason ?? .connectionClosed, readError: end.error)
                return
            case .lines(let batch):
                for line in batch {
                    // Once the server has decided to close (a timeout, a kick, an overflow), queued lines do
                    // nothing more: a name must not log in a connection that is going away. Lines a peer sent
                    // before hanging up are still processed, as `printf 'alice\nhi\n' | nc` expects.
                    if let reason = outbox.closeReason {
                        endSession()
                        await finish(session, reason: reason, readError: nil)
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
                    await finish(session, reason: reason, readError: nil)
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

    private func finish(_ session: Session, reason: CloseReason, readError: (any Error)?) async {
        timers.stop()
        await session.end(reason: reason, readError: readError)
        closeAndReportEnd(reason: reason)
    }

    /// After the session's own close this does nothing; after a read error it closes the channel. `onEnd` runs
    /// once the channel is closed.
    private func closeAndReportEnd(reason: CloseReason) {
        outbox.close(reason: reason)
        let onEnd = inbox.withLockedValue { inbox in
            defer { inbox.onEnd = nil }
            return inbox.onEnd
        }
        outbox.closeFuture.whenComplete { _ in onEnd?() }
    }
}
