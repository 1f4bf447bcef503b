import NIOCore
import SecureChat

/// What one scripted client saw and did; a copy that may leave the event loop.
public struct ScriptedClientReport: Sendable, Equatable {
    /// Lines received after login.
    public var linesReceived = 0
    /// `! You are sending too fast ...` refusals.
    public var refusals = 0
    /// The server said `! Disconnected for flooding.`
    public var floodDisconnected = false
    /// The server answered `/quit` with `* Bye!`.
    public var quitAcknowledged = false
    /// Other `!` error lines: a well-behaved client must see none.
    public var errorCount = 0
    /// The first few of them.
    public var errors: [String] = []
    /// The connection closed while the script still needed it (not after ``ScriptedClientHandler/closingExpected``).
    public var unexpectedClose = false
    public var closed = false
    /// Room lines and direct messages this client sent as a steady sender.
    public var roomLinesSent = 0
    public var directLinesSent = 0

    public init() {}
}

/// A chat client driven by a script (the `churn` and `soak` scenarios): logs in, then sends what it is told
/// (lines, `/ping` barriers, paced benchmark lines), classifies what the server says and, when it carries a
/// ``SoakLedger``, checks the benchmark lines of the other steady clients.
///
/// Sits at the top of the pipeline, above ``OpenSSLHandler`` on TLS connections. Everything here runs on the
/// channel's event loop; reach it from elsewhere through ``ScriptedConnection``.
public final class ScriptedClientHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingPrompt
        case awaitingWelcome
        case loggedIn
        case closed
    }

    public let name: String
    /// Steady clients only: the check of what the other steady clients send.
    public var ledger: SoakLedger?
    /// Set before a close the script intends (its own, or the server's answer to `/quit`), so that it is not
    /// counted as unexpected.
    public var closingExpected = false
    public private(set) var report = ScriptedClientReport()

    private let shard: LoopShard
    private let loginPromise: EventLoopPromise<Void>
    private var state = State.awaitingPrompt
    private var splitter = LineSplitter()
    private var pongs = CircularBuffer<EventLoopPromise<Void>>()
    private var context: ChannelHandlerContext?
    private var pacer: Scheduled<Void>?

    /// - Parameters:
    ///   - name: the username to log in with.
    ///   - shard: the counters of this channel's event loop (deliveries, latency).
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

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !closingExpected, state != .closed { note(error: "\(name): \(error)") }
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let wasLoggingIn = state == .awaitingPrompt || state == .awaitingWelcome
        state = .closed
        report.closed = true
        pacer?.cancel()
        pacer = nil
        if wasLoggingIn {
            loginPromise.fail(BenchError.closedBeforeLogin(name))
        } else if !closingExpected {
            report.unexpectedClose = true
        }
        while let pong = pongs.popFirst() { pong.fail(BenchError.closedBeforeLogin(name)) }
        context.fireChannelInactive()
    }

    // MARK: Lines

    private func handle(_ line: UnsafeRawBufferPointer, now: UInt64) {
        if state == .loggedIn { report.linesReceived += 1 }
        switch ServerLineKind.classify(line) {
        case .chat(let offset):
            // Only steady clients count deliveries and latency: a slow reader's backlog is late on purpose.
            guard ledger != nil,
                let payload = BenchPayload.parse(UnsafeRawBufferPointer(rebasing: line[offset...]))
            else { return }
            shard.noteDelivery(at: now, sent: payload.sentNanoseconds, crossed: nil)
            ledger?.recordRoomLine(sender: payload.sender, sequence: payload.sequence)
        case .other:
            guard ledger != nil, let offset = Self.directMessageText(line),
                let payload = BenchPayload.parse(UnsafeRawBufferPointer(rebasing: line[offset...]))
            else { return }
            shard.noteDelivery(at: now, sent: payload.sentNanoseconds, crossed: nil)
            ledger?.recordDirectMessage(sender: payload.sender, sequence: payload.sequence)
        case .prompt:
            guard state == .awaitingPrompt, let context else { return }
            state = .awaitingWelcome
            write("\(name)\n", context: context)
        case .welcome:
            guard state == .awaitingWelcome else { return }
            state = .loggedIn
            loginPromise.succeed()
        case .pong:
            pongs.popFirst()?.succeed()
        case .error:
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("! You are sending too fast") {
                report.refusals += 1
            } else if text.hasPrefix("! Disconnected for flooding.") {
                report.floodDisconnected = true
            } else if state == .awaitingWelcome {
                loginPromise.fail(BenchError.loginRefused(name: name, reason: text))
                context?.close(promise: nil)
            } else {
                note(error: "\(name): \(text)")
            }
        case .notice:
            if state == .loggedIn, line.count == 6, line.starts(with: "* Bye!".utf8) {
                report.quitAcknowledged = true
            }
        }
    }

    /// The offset of the text of a received direct message (`[dm] name: text`), or `nil` for other lines.
    static func directMessageText(_ line: UnsafeRawBufferPointer) -> Int? {
        let prefix = "[dm] ".utf8
        guard line.starts(with: prefix) else { return nil }
        var index = prefix.count
        let limit = min(line.count - 1, prefix.count + 25)
        while index < limit {
            if line[index] == UInt8(ascii: ":") {
                return line[index + 1] == UInt8(ascii: " ") ? index + 2 : nil
            }
            index += 1
        }
        return nil
    }

    private func note(error text: String) {
        report.errorCount += 1
        if report.errors.count < 3 { report.errors.append(text) }
    }

    private func write(_ text: String, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    // MARK: Commands from the script

    /// Sends lines (each without its newline) in one write.
    public func send(_ lines: [String]) {
        guard let context, state == .loggedIn else { return }
        write(lines.map { $0 + "\n" }.joined(), context: context)
    }

    /// Sends `/ping`; the future completes at the `* pong`, i.e. once every line queued for this client
    /// before it has arrived.
    public func ping() -> EventLoopFuture<Void> {
        guard let context, state == .loggedIn else {
            return loginPromise.futureResult.eventLoop.makeFailedFuture(BenchError.notConnected(name))
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        pongs.append(promise)
        write("/ping\n", context: context)
        return promise.futureResult
    }

    /// Starts sending benchmark lines to the room as steady sender `sender`: one every `interval` from
    /// `start`, and with every `directEvery`-th of them one direct message to `partner`. A late timer sends
    /// at once; nothing is sent to catch up on more than one missed tick.
    public func startPacing(
        sender: Int, start: NIODeadline, interval: TimeAmount, bytes: Int, partner: String?, directEvery: Int
    ) {
        guard let context, state == .loggedIn, pacer == nil else { return }
        var tick: Int64 = 0
        func schedule() {
            let deadline = max(start + interval * tick, NIODeadline.now())
            pacer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) {
                guard self.state == .loggedIn else { return }
                self.sendPaced(sender: sender, bytes: bytes, partner: partner, directEvery: directEvery)
                tick += 1
                // Skip ticks that are already past rather than bursting to catch up.
                let now = NIODeadline.now()
                while start + interval * tick < now - interval { tick += 1 }
                schedule()
            }
        }
        schedule()
    }

    private func sendPaced(sender: Int, bytes: Int, partner: String?, directEvery: Int) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 2 * bytes + 64)
        let now = NIODeadline.now().uptimeNanoseconds
        BenchPayload(sender: sender, sequence: report.roomLinesSent, sentNanoseconds: now)
            .write(into: &buffer, size: bytes)
        report.roomLinesSent += 1
        if let partner, report.roomLinesSent % directEvery == 0 {
            buffer.writeString("/msg \(partner) ")
            BenchPayload(sender: sender, sequence: report.directLinesSent, sentNanoseconds: now)
                .write(into: &buffer, size: 32)
            report.directLinesSent += 1
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Stops ``startPacing(sender:start:interval:bytes:partner:directEvery:)``; what was sent is in the report.
    public func stopPacing() {
        pacer?.cancel()
        pacer = nil
    }

    /// Stops reading from the socket (a slow reader), or starts again.
    public func setReading(_ reading: Bool) -> EventLoopFuture<Void> {
        guard let context else {
            return loginPromise.futureResult.eventLoop.makeFailedFuture(BenchError.notConnected(name))
        }
        let future = context.channel.setOption(ChannelOptions.autoRead, value: reading)
        if reading { context.read() }
        return future
    }
}
