import NIOCore
import NIOPosix
import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

struct TestTimeout: Error, CustomStringConvertible {
    let waitingFor: String
    var description: String { "timed out waiting for \(waitingFor)" }
}

/// Collects the lines a test client receives, on the channel's event loop, and hands them out one at a time.
private final class LineCollector: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked Sendable: every property is touched only on the channel's event loop.
    typealias InboundIn = InboundLine

    private var buffered = CircularBuffer<[UInt8]>()
    private var waiter: EventLoopPromise<[UInt8]?>?
    private var ended = false
    private(set) var overlongCount = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .line(let bytes), .meant(let bytes, _):
            deliver(Array(bytes.readableBytesView))
        case .overlong, .tlsOnPlaintextPort:
            overlongCount += 1
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        waiter?.succeed(nil)
        waiter = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset after the server closed is an ordinary end for these tests.
        context.close(promise: nil)
    }

    private func deliver(_ line: [UInt8]) {
        if let waiter {
            self.waiter = nil
            waiter.succeed(line)
        } else {
            buffered.append(line)
        }
    }

    func next(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<[UInt8]?> {
        eventLoop.assertInEventLoop()
        if let line = buffered.popFirst() { return eventLoop.makeSucceededFuture(line) }
        if ended { return eventLoop.makeSucceededFuture(nil) }
        let promise = eventLoop.makePromise(of: [UInt8]?.self)
        waiter = promise
        eventLoop.scheduleTask(in: timeout) { [self] in
            if let waiter, waiter.futureResult === promise.futureResult {
                self.waiter = nil
                waiter.fail(TestTimeout(waitingFor: "a line"))
            }
        }
        return promise.futureResult
    }
}

/// A line-protocol client for tests, over a real socket. Every wait has a generous failsafe timeout, so a
/// broken server fails the test instead of hanging it; no test asserts on timing.
final class TestClient: Sendable {
    let channel: any Channel
    private let collector: NIOLoopBound<LineCollector>
    static let failsafe: TimeAmount = SanitizedBuild.scaled(.seconds(20))

    private init(channel: any Channel, collector: NIOLoopBound<LineCollector>) {
        self.channel = channel
        self.collector = collector
    }

    /// How a test client speaks TLS: trusting the test CA, optionally with a client certificate.
    struct TLS: Sendable {
        var clientCertificate: DevelopmentClientCertificate?
        var serverHostname: String? = "localhost"
        /// The CA the client trusts (default: the test CA).
        var trustRootsPath: String = TestCertificates.set.caCertificatePath

        static let plain = TLS()

        static func withCertificate(_ name: String) -> TLS {
            TLS(clientCertificate: TestCertificates.client(name))
        }

        func makeHandler() throws -> OpenSSLHandler {
            let context = try TLSContext.client(
                trustRootsPath: trustRootsPath,
                certificateChainPath: clientCertificate?.certificatePath,
                privateKeyPath: clientCertificate?.privateKeyPath
            )
            return try OpenSSLHandler(context: context, mode: .client(serverHostname: serverHostname))
        }
    }

    /// Connects to `port` on 127.0.0.1. `autoRead: false` makes a client that never reads (a stalled reader);
    /// `tls` speaks TLS (to the server's TLS port); `source` picks the client's address (any 127.x.y.z on Linux,
    /// so tests can play several client addresses); `receiveBuffer` shrinks SO_RCVBUF to stall sooner.
    static func connect(
        port: Int,
        host: String = "127.0.0.1",
        from source: String? = nil,
        autoRead: Bool = true,
        tls: TLS? = nil,
        receiveBuffer: Int? = nil
    ) async throws -> TestClient {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // NIO's 10 s, scaled: in a sanitized build the servers of the tests that start together can leave a
            // SYN waiting in a full accept queue for longer than that.
            .connectTimeout(SanitizedBuild.scaled(.seconds(10)))
            .channelOption(.autoRead, value: autoRead)
        if let source {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0))
        }
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        // The handlers go in before the channel is active: the server's greeting can arrive right after the
        // connect, and bytes read before the collector is in the pipeline would be lost. The collector is kept
        // as made, not looked up later: a refused connection's pipeline may already be empty.
        let collector = LineCollector()
        let channel =
            try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try tls.makeHandler())
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineDecoder(maximumLength: 1 << 24))
                    )
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: host, port: port).get()
        let bound = try await channel.eventLoop.submit { NIOLoopBound(collector, eventLoop: channel.eventLoop) }.get()
        return TestClient(channel: channel, collector: bound)
    }

    /// Connects, reads the greeting and logs in as `name`; returns once the welcome notice arrived.
    static func loggedIn(_ name: String, port: Int, from source: String? = nil, tls: TLS? = nil) async throws
        -> TestClient
    {
        let client = try await connect(port: port, from: source, tls: tls)
        try await client.login(name)
        return client
    }

    func login(_ name: String) async throws {
        _ = try await readUntil { $0.hasPrefix("* Choose a username") }
        try await answerPrompt(name)
    }

    /// Sends `name` when the username prompt has already been read; returns once the welcome notice arrived.
    func answerPrompt(_ name: String) async throws {
        send(name)
        _ = try await readUntil("the welcome for \(name)") { $0.hasPrefix("* Welcome, \(name)!") }
    }

    func send(_ line: String) {
        sendRaw(Array((line + "\n").utf8))
    }

    func sendRaw(_ bytes: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// Writes `chunk` `count` times, waiting for each write to reach the kernel: a long stream sent with
    /// backpressure, which costs this process one chunk of memory however long the stream is.
    func sendRepeated(_ chunk: ByteBuffer, count: Int) async throws {
        for _ in 0..<count {
            try await channel.writeAndFlush(chunk)
        }
    }

    /// The next line, or nil once the server closed the connection.
    func readLine(timeout: TimeAmount = failsafe) async throws -> String? {
        try await readLineBytes(timeout: timeout).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The next line's exact bytes (without the newline), or nil once the server closed the connection.
    func readLineBytes(timeout: TimeAmount = failsafe) async throws -> [UInt8]? {
        let collector = self.collector
        return try await channel.eventLoop.flatSubmit {
            collector.value.next(on: collector.eventLoop, timeout: timeout)
        }.get()
    }

    /// Reads lines until one matches; returns it. Throws if the connection ends first.
    @discardableResult
    func readUntil(_ description: String = "a matching line", _ matches: (String) -> Bool) async throws -> String {
        var skipped: [String] = []
        while true {
            let next: String?
            do {
                next = try await readLine()
            } catch is TestTimeout {
                // Say what did arrive: a timeout alone does not tell which expectation was wrong.
                throw TestTimeout(waitingFor: "\(description); the last lines were \(skipped.suffix(5))")
            }
            guard let line = next else { throw TestTimeout(waitingFor: "\(description) (EOF)") }
            if matches(line) { return line }
            skipped.append(line)
        }
    }

    /// Reads lines until one matches; returns every line read, the match included.
    func collectUntil(_ matches: (String) -> Bool) async throws -> [String] {
        var lines: [String] = []
        while true {
            guard let line = try await readLine() else { throw TestTimeout(waitingFor: "a matching line (EOF)") }
            lines.append(line)
            if matches(line) { return lines }
        }
    }

    /// Reads until the server closes the connection; returns what arrived before.
    func readToEnd() async throws -> [String] {
        var lines: [String] = []
        while let line = try await readLine() { lines.append(line) }
        return lines
    }

    /// Sends `/ping` and collects everything up to the `* pong`: a barrier that proves the server processed
    /// every earlier line of this client.
    func sync() async throws -> [String] {
        send("/ping")
        var lines = try await collectUntil { $0 == "* pong" }
        lines.removeLast()
        return lines
    }

    /// Like `sync()`, with the exact bytes of each line.
    func syncBytes() async throws -> [[UInt8]] {
        send("/ping")
        var lines: [[UInt8]] = []
        while true {
            guard let line = try await readLineBytes() else { throw TestTimeout(waitingFor: "* pong (EOF)") }
            if line == Array("* pong".utf8) { return lines }
            lines.append(line)
        }
    }

    func close() async {
        try? await channel.close()
    }

    /// Closes with a TCP reset (SO_LINGER 0) instead of a FIN: the server's next write to this socket fails.
    func abort() async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        await close()
    }
}
