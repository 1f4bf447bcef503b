import NIOCore
import SecureChat

/// One benchmark client: logs in with its name, answers nothing, counts and checks the chat lines it
/// receives and, when told, sends benchmark messages (as fast as the socket takes them, or paced).
///
/// Sits at the top of the pipeline, above ``OpenSSLHandler`` on TLS connections. Everything here runs on
/// the channel's event loop; reach it from elsewhere through ``BenchConnection``.
public final class BenchClientHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingPrompt
        case awaitingWelcome
        case loggedIn
        case closed
    }

    public let name: String
    /// Receiver-side check of a fan-out run; `nil` in scenarios that only count.
    public var ledger: ReceiverLedger?
    /// What the TLS handshake negotiated, on TLS connections.
    public private(set) var handshake: TLSHandshakeCompleted?
    /// Set when the scenario is over, so the closes that follow are not counted as failures.
    public var closingExpected = false
    /// With several targets: which one this client talks to and how senders are spread, so that each
    /// delivery can be counted as crossing targets or not. `nil` with a single target.
    public var placement: (target: Int, assignment: TargetAssignment)?

    private let shard: LoopShard
    private let loginPromise: EventLoopPromise<Void>
    private var state = State.awaitingPrompt
    private var splitter = LineSplitter()
    private var pongs = CircularBuffer<EventLoopPromise<Void>>()
    private var context: ChannelHandlerContext?
    private var burst: MessageBurst?

    /// - Parameters:
    ///   - name: the username to log in with.
    ///   - shard: the counters of this channel's event loop.
    ///   - loginPromise: succeeded at the welcome line, failed on an error line or a close before it.
    public init(name: String, shard: LoopShard, loginPromise: EventLoopPromise<Void>) {
        self.name = name
        self.shard = shard
        self.loginPromise = loginPromise
    }

    /// Completes at the welcome line.
    public var loginFuture: EventLoopFuture<Void> { loginPromise.futureResult }

    // MARK: Pipeline events

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let now = NIODeadline.now().uptimeNanoseconds
        splitter.feed(buffer) { line in self.handle(line, now: now) }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pumpBurst() }
        context.fireChannelWritabilityChanged()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            handshake = completed
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !closingExpected { shard.noteError("\(name): \(error)") }
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let wasLoggingIn = state != .loggedIn
        state = .closed
        if wasLoggingIn {
            loginPromise.fail(BenchError.closedBeforeLogin(name))
        } else if !closingExpected {
            shard.unexpectedCloses += 1
        }
        while let pong = pongs.popFirst() { pong.fail(BenchError.closedBeforeLogin(name)) }
        burst?.done.fail(BenchError.closedWhileSending(name))
        burst = nil
        context.fireChannelInactive()
    }

    // MARK: Lines

    private func handle(_ line: UnsafeRawBufferPointer, now: UInt64) {
        switch ServerLineKind.classify(line) {
        case .chat(let offset):
            guard let payload = BenchPayload.parse(UnsafeRawBufferPointer(rebasing: line[offset...])) else { return }
            let crossed = placement.map { $0.assignment.crosses(sender: payload.sender, receiverTarget: $0.target) }
            shard.noteDelivery(at: now, sent: payload.sentNanoseconds, crossed: crossed)
            ledger?.record(sender: payload.sender, sequence: payload.sequence)
        case .prompt:
            guard state == .awaitingPrompt, let context else { return }
            state = .awaitingWelcome
            var buffer = context.channel.allocator.buffer(capacity: name.utf8.count + 1)
            buffer.writeString(name)
            buffer.writeInteger(UInt8(ascii: "\n"))
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .welcome:
            guard state == .awaitingWelcome else { return }
            state = .loggedIn
            loginPromise.succeed()
        case .pong:
            pongs.popFirst()?.succeed()
        case .error:
            let text = String(decoding: line, as: UTF8.self)
            if state == .awaitingWelcome {
                loginPromise.fail(BenchError.loginRefused(name: name, reason: text))
                context?.close(promise: nil)
            } else if !closingExpected {
                shard.noteError("\(name): \(text)")
            }
        case .notice, .other:
            break
        }
    }

    // MARK: Commands from the scenario

    /// Sends `/ping`; the future completes at the `* pong`, i.e. once every line queued for this client
    /// before it has arrived.
    public func ping() -> EventLoopFuture<Void> {
        guard let context, state == .loggedIn else {
            return loginPromise.futureResult.eventLoop.makeFailedFuture(BenchError.notConnected(name))
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        pongs.append(promise)
        var buffer = context.channel.allocator.buffer(capacity: 6)
        buffer.writeStaticString("/ping\n")
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        return promise.futureResult
    }

    /// Sends `/join ROOM`, then `/ping`; the future completes at the `* pong`, by which time the server has
    /// moved this client.
    public func join(_ room: String) -> EventLoopFuture<Void> {
        guard let context, state == .loggedIn else {
            return loginPromise.futureResult.eventLoop.makeFailedFuture(BenchError.notConnected(name))
        }
        var buffer = context.channel.allocator.buffer(capacity: room.utf8.count + 7)
        buffer.writeString("/join \(room)\n")
        context.write(wrapOutboundOut(buffer), promise: nil)
        return ping()
    }

    /// Sends one benchmark message now, stamped with the current time.
    public func sendOne(sender: Int, sequence: Int, size: Int) {
        guard let context, state == .loggedIn else { return }
        var buffer = context.channel.allocator.buffer(capacity: size + 32)
        BenchPayload(sender: sender, sequence: sequence, sentNanoseconds: NIODeadline.now().uptimeNanoseconds)
            .write(into: &buffer, size: size)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Sends `count` messages at a fixed rate: message `k` at `start + k * interval`, stamped with the time it
    /// is actually written. A late timer sends at once (no catching-up burst beyond what is overdue).
    public func sendPaced(sender: Int, count: Int, size: Int, start: NIODeadline, interval: TimeAmount) {
        guard let context, count > 0 else { return }
        var sequence = 0
        func schedule() {
            let deadline = start + interval * Int64(sequence)
            context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) {
                self.sendOne(sender: sender, sequence: sequence, size: size)
                sequence += 1
                if sequence < count { schedule() }
            }
        }
        schedule()
    }

    /// Sends `count` messages as fast as the socket takes them, in batches of `batch` per write and flush;
    /// the future completes when the last one is handed to the socket.
    public func sendBurst(sender: Int, count: Int, size: Int, batch: Int = 32) -> EventLoopFuture<Void> {
        guard let context, state == .loggedIn, burst == nil else {
            return loginPromise.futureResult.eventLoop.makeFailedFuture(BenchError.notConnected(name))
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        burst = MessageBurst(sender: sender, count: count, size: size, batch: max(1, batch), done: done)
        pumpBurst()
        return done.futureResult
    }

    private func pumpBurst() {
        guard var job = burst, let context else { return }
        while job.next < job.count, context.channel.isWritable {
            let n = min(job.batch, job.count - job.next)
            var buffer = context.channel.allocator.buffer(capacity: n * (job.size + 32))
            let now = NIODeadline.now().uptimeNanoseconds
            for i in 0..<n {
                BenchPayload(sender: job.sender, sequence: job.next + i, sentNanoseconds: now)
                    .write(into: &buffer, size: job.size)
            }
            job.next += n
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        if job.next >= job.count {
            burst = nil
            job.done.succeed()
        } else {
            burst = job
        }
    }
}

/// A fan-out sender's progress.
struct MessageBurst {
    let sender: Int
    let count: Int
    let size: Int
    let batch: Int
    let done: EventLoopPromise<Void>
    var next = 0

    init(sender: Int, count: Int, size: Int, batch: Int, done: EventLoopPromise<Void>) {
        self.sender = sender
        self.count = count
        self.size = size
        self.batch = batch
        self.done = done
    }
}
