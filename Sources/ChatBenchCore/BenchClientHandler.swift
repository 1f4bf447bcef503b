import NIOCore
import SecureChat

/// One benchmark client: logs in with its name, answers nothing (but an IRC server's `PING`), counts and
/// checks the chat lines it receives and, when told, sends benchmark messages (as fast as the socket takes
/// them, or paced). It speaks the line protocol or IRC (``dialect``).
///
/// Sits at the top of the pipeline, above ``OpenSSLHandler`` on TLS connections. Everything here runs on
/// the channel's event loop; reach it from elsewhere through ``BenchConnection``.
public final class BenchClientHandler: LoginClientHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

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
    /// The protocol spoken (set before the connection is active; ``Connector`` sets it from the target).
    public var dialect: BenchProtocol {
        get { session.dialect }
        set { session.dialect = newValue }
    }

    private let shard: LoopShard
    /// Login and `/ping`s.
    private let session: ClientSession
    private var splitter = LineSplitter()
    private var context: ChannelHandlerContext?
    private var burst: MessageBurst?
    /// The room this client's messages go to (IRC names it in every `PRIVMSG`).
    private var room = BenchProtocol.lobby
    /// This client's sender index once it has sent: a line of its own that comes back is an echo, not a
    /// delivery.
    private var ownSender: Int?

    /// - Parameters:
    ///   - name: the username to log in with.
    ///   - shard: the counters of this channel's event loop.
    ///   - loginPromise: succeeded at the welcome line, failed on an error line or a close before it.
    public init(name: String, shard: LoopShard, loginPromise: EventLoopPromise<Void>) {
        self.name = name
        self.shard = shard
        self.session = ClientSession(name: name, loginPromise: loginPromise)
    }

    /// Completes at the welcome line.
    public var loginFuture: EventLoopFuture<Void> { session.loginFuture }

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

    public func channelActive(context: ChannelHandlerContext) {
        session.connected(context: context)
        context.fireChannelActive()
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
        if session.isLoggedIn, !closingExpected { shard.unexpectedCloses += 1 }
        session.closed()
        burst?.done.fail(BenchError.closedWhileSending(name))
        burst = nil
        context.fireChannelInactive()
    }

    // MARK: Lines

    private func handle(_ line: UnsafeRawBufferPointer, now: UInt64) {
        switch session.dialect.classify(line) {
        case .chat(let offset):
            guard let payload = BenchPayload.parse(UnsafeRawBufferPointer(rebasing: line[offset...])) else { return }
            // Neither server echoes a line to its sender, so an echo would only inflate the counts: it is no
            // delivery. The ledger still sees it, as unexpected.
            if payload.sender != ownSender {
                let crossed = placement.map {
                    $0.assignment.crosses(sender: payload.sender, receiverTarget: $0.target)
                }
                shard.noteDelivery(at: now, sent: payload.sentNanoseconds, crossed: crossed)
            }
            ledger?.record(sender: payload.sender, sequence: payload.sequence)
        case .prompt:
            session.prompted(context: context)
        case .registered:
            session.registered(context: context)
        case .welcome:
            session.welcomed()
        case .pong:
            session.ponged()
        case .serverPing(let offset):
            session.serverPinged(token: UnsafeRawBufferPointer(rebasing: line[offset...]), context: context)
        case .error:
            let text = String(decoding: line, as: UTF8.self)
            if !session.refusesLogin(text, context: context), !closingExpected {
                shard.noteError("\(name): \(text)")
            }
        case .other:
            break
        }
    }

    // MARK: Commands from the scenario

    /// Sends a barrier (`/ping`, IRC `PING`); the future completes at its answer, i.e. once every line
    /// queued for this client before it has arrived.
    public func ping() -> EventLoopFuture<Void> {
        session.ping(context: context)
    }

    /// Moves this client to `room` (`/join ROOM`; IRC `PART` and `JOIN`), then sends a barrier; the future
    /// completes at its answer, by which time the server has moved this client.
    public func join(_ room: String) -> EventLoopFuture<Void> {
        guard let context, session.isLoggedIn else { return session.notConnected() }
        let text = session.dialect.move(from: self.room, to: room)
        self.room = room
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.write(wrapOutboundOut(buffer), promise: nil)
        return ping()
    }

    /// Sends one benchmark message now, stamped with the current time.
    public func sendOne(sender: Int, sequence: Int, size: Int) {
        guard let context, session.isLoggedIn else { return }
        ownSender = sender
        let dialect = session.dialect
        var buffer = context.channel.allocator.buffer(capacity: size + 32 + dialect.overhead(room: room))
        let payload = BenchPayload(
            sender: sender, sequence: sequence, sentNanoseconds: NIODeadline.now().uptimeNanoseconds)
        dialect.writeMessage(payload, size: size, room: room, into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Sends `count` messages at a fixed rate: message `k` at `start + k * interval`, stamped with the time it
    /// is actually written. A late timer sends at once (no catching-up burst beyond what is overdue).
    public func sendPaced(sender: Int, count: Int, size: Int, start: NIODeadline, interval: TimeAmount) {
        guard let context, count > 0 else { return }
        ownSender = sender
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
        guard let context, session.isLoggedIn, burst == nil else { return session.notConnected() }
        let done = context.eventLoop.makePromise(of: Void.self)
        ownSender = sender
        burst = MessageBurst(sender: sender, count: count, size: size, batch: max(1, batch), done: done)
        pumpBurst()
        return done.futureResult
    }

    private func pumpBurst() {
        guard var job = burst, let context else { return }
        let dialect = session.dialect
        let lineBytes = job.size + 32 + dialect.overhead(room: room)
        while job.next < job.count, context.channel.isWritable {
            let n = min(job.batch, job.count - job.next)
            var buffer = context.channel.allocator.buffer(capacity: n * lineBytes)
            let now = NIODeadline.now().uptimeNanoseconds
            for i in 0..<n {
                let payload = BenchPayload(sender: job.sender, sequence: job.next + i, sentNanoseconds: now)
                dialect.writeMessage(payload, size: job.size, room: room, into: &buffer)
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
