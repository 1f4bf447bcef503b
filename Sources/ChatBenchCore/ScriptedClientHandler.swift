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
public final class ScriptedClientHandler: LoginClientHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public let name: String
    /// Steady clients only: the check of what the other steady clients send.
    public var ledger: SoakLedger?
    /// Set before a close the script intends (its own, or the server's answer to `/quit`), so that it is not
    /// counted as unexpected.
    public var closingExpected = false
    public private(set) var report = ScriptedClientReport()

    private let shard: LoopShard
    /// Login and `/ping`s.
    private let session: ClientSession
    private var splitter = LineSplitter()
    private var context: ChannelHandlerContext?
    private var pacer: Scheduled<Void>?

    /// - Parameters:
    ///   - name: the username to log in with.
    ///   - shard: the counters of this channel's event loop (deliveries, latency).
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

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !closingExpected, session.state != .closed { note(error: "\(name): \(error)") }
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        report.closed = true
        pacer?.cancel()
        pacer = nil
        if session.isLoggedIn, !closingExpected { report.unexpectedClose = true }
        session.closed()
        context.fireChannelInactive()
    }

    // MARK: Lines

    private func handle(_ line: UnsafeRawBufferPointer, now: UInt64) {
        if session.isLoggedIn { report.linesReceived += 1 }
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
            session.prompted(context: context)
        case .welcome:
            session.welcomed()
        case .pong:
            session.ponged()
        case .error:
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("! You are sending too fast") {
                report.refusals += 1
            } else if text.hasPrefix("! Disconnected for flooding.") {
                report.floodDisconnected = true
            } else if !session.refusesLogin(text, context: context) {
                note(error: "\(name): \(text)")
            }
        case .notice:
            if session.isLoggedIn, line.count == 6, line.starts(with: "* Bye!".utf8) {
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
        guard let context, session.isLoggedIn else { return }
        write(lines.map { $0 + "\n" }.joined(), context: context)
    }

    /// Sends `/ping`; the future completes at the `* pong`, i.e. once every line queued for this client
    /// before it has arrived.
    public func ping() -> EventLoopFuture<Void> {
        session.ping(context: context)
    }

    /// Starts sending benchmark lines to the room as steady sender `sender`: one every `interval` from
    /// `start`, and with every `directEvery`-th of them one direct message to `partner`. A late timer sends
    /// at once; nothing is sent to catch up on more than one missed tick.
    public func startPacing(
        sender: Int, start: NIODeadline, interval: TimeAmount, bytes: Int, partner: String?, directEvery: Int
    ) {
        guard let context, session.isLoggedIn, pacer == nil else { return }
        var tick: Int64 = 0
        func schedule() {
            let deadline = max(start + interval * tick, NIODeadline.now())
            pacer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) {
                guard self.session.isLoggedIn else { return }
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
        guard let context else { return session.notConnected() }
        let future = context.channel.setOption(ChannelOptions.autoRead, value: reading)
        if reading { context.read() }
        return future
    }
}
