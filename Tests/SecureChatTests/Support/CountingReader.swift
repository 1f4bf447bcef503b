import NIOCore
import NIOPosix
import SecureChat

/// A logged-in reader that keeps nothing it receives: it checks one sender's numbered lines (`sender: N ...`,
/// N = 0, 1, 2, ...) as they arrive, on the event loop, and keeps only counters and the `* ` notices. Memory
/// tests use it so that the test's own clients do not buffer megabytes and blur the server's footprint.
final class CountingReader: Sendable {
    struct Result: Sendable {
        /// Numbered lines from the sender.
        var received = 0
        /// Every numbered line carried the number of its position.
        var inOrder = true
        var notices: [String] = []
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: touched only on the channel's event loop.
        typealias InboundIn = InboundLine

        let welcome: [UInt8]
        let prefix: [UInt8]
        let sentinel: [UInt8]
        let loggedIn: EventLoopPromise<Void>
        let done: EventLoopPromise<Result>
        var result = Result()
        var counting = false
        var waiters: [(count: Int, promise: EventLoopPromise<Void>)] = []

        init(
            name: String, sender: String, sentinel: String, loggedIn: EventLoopPromise<Void>,
            done: EventLoopPromise<Result>
        ) {
            self.welcome = Array("* Welcome, \(name)!".utf8)
            self.prefix = Array((sender + ": ").utf8)
            self.sentinel = Array(sentinel.utf8)
            self.loggedIn = loggedIn
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .line(let buffer) = unwrapInboundIn(data) else { return }
            let bytes = buffer.readableBytesView
            if !counting {
                // The greeting, then the welcome: from here on everything counts.
                if bytes.starts(with: welcome) {
                    counting = true
                    loggedIn.succeed()
                }
                return
            }
            if bytes.elementsEqual(sentinel) {
                done.succeed(result)
            } else if bytes.starts(with: [UInt8(ascii: "*"), UInt8(ascii: " ")]) {
                result.notices.append(String(buffer: buffer))
            } else if bytes.starts(with: prefix) {
                let digits = bytes.dropFirst(prefix.count).prefix { (0x30...0x39).contains($0) }
                if Int(String(decoding: digits, as: UTF8.self)) != result.received { result.inOrder = false }
                result.received += 1
                while let index = waiters.firstIndex(where: { $0.count <= result.received }) {
                    waiters.remove(at: index).promise.succeed()
                }
            }
        }

        func wait(for count: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
            if result.received >= count { return eventLoop.makeSucceededVoidFuture() }
            let promise = eventLoop.makePromise(of: Void.self)
            waiters.append((count, promise))
            return promise.futureResult
        }

        func channelInactive(context: ChannelHandlerContext) {
            loggedIn.fail(TestTimeout(waitingFor: "the welcome (EOF)"))
            for waiter in waiters { waiter.promise.fail(TestTimeout(waitingFor: "\(waiter.count) lines (EOF)")) }
            waiters.removeAll()
            done.fail(TestTimeout(waitingFor: "the sentinel line (EOF)"))
        }
    }

    let channel: any Channel
    /// Succeeds with the tally once the sentinel line arrives.
    let result: EventLoopFuture<Result>
    private let handler: NIOLoopBound<Handler>

    private init(channel: any Channel, result: EventLoopFuture<Result>, handler: NIOLoopBound<Handler>) {
        self.channel = channel
        self.result = result
        self.handler = handler
    }

    /// Returns once `count` numbered lines have arrived (fails with a timeout after the failsafe): lets a
    /// flooding test pace itself on its readers, so a healthy reader is never the one that falls behind.
    func waitFor(count: Int) async throws {
        let handler = self.handler
        try await channel.eventLoop.flatSubmit {
            let waited = handler.value.wait(for: count, on: handler.eventLoop)
            let timeout = handler.eventLoop.scheduleTask(in: TestClient.failsafe) {
                for waiter in handler.value.waiters where waiter.count == count {
                    waiter.promise.fail(TestTimeout(waitingFor: "\(count) lines"))
                }
                handler.value.waiters.removeAll { $0.count == count }
            }
            waited.whenComplete { _ in timeout.cancel() }
            return waited
        }.get()
    }

    /// Connects and logs in as `name`; returns once the welcome notice arrived.
    static func loggedIn(_ name: String, port: Int, sender: String, sentinel: String) async throws -> CountingReader {
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let loggedIn = eventLoop.makePromise(of: Void.self)
        let done = eventLoop.makePromise(of: Result.self)
        let handler = Handler(name: name, sender: sender, sentinel: sentinel, loggedIn: loggedIn, done: done)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineDecoder(maximumLength: 1 << 24)))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            // Promises left unfulfilled stop a debug build ("leaking promise"), the whole test run with it.
            loggedIn.fail(error)
            done.fail(error)
            throw error
        }
        let bound = try await eventLoop.submit { NIOLoopBound(handler, eventLoop: eventLoop) }.get()
        // The server reads the name once it has greeted; sending it right away is fine.
        try await channel.writeAndFlush(ByteBuffer(string: name + "\n"))
        let reader = CountingReader(channel: channel, result: done.futureResult, handler: bound)
        do {
            try await loggedIn.futureResult.get()
        } catch {
            await reader.close()
            throw error
        }
        return reader
    }

    func close() async {
        try? await channel.close()
    }
}
