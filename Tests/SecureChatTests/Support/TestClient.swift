import NIOCore
import NIOPosix
import SecureChat

struct TestTimeout: Error, CustomStringConvertible {
    let waitingFor: String
    var description: String { "timed out waiting for \(waitingFor)" }
}

/// Collects the lines a test client receives, on the channel's event loop, and hands them out one at a time.
private final class LineCollector: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked Sendable: every property is touched only on the channel's event loop.
    typealias InboundIn = InboundLine

    private var buffered = CircularBuffer<String>()
    private var waiter: EventLoopPromise<String?>?
    private var ended = false
    private(set) var overlongCount = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .line(let bytes):
            deliver(String(buffer: bytes))
        case .overlong, .tlsOnPlaintextPort:
            overlongCount += 1
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        waiter?.succeed(nil)
        waiter = nil
    }

    private func deliver(_ line: String) {
        if let waiter {
            self.waiter = nil
            waiter.succeed(line)
        } else {
            buffered.append(line)
        }
    }

    func next(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<String?> {
        eventLoop.assertInEventLoop()
        if let line = buffered.popFirst() { return eventLoop.makeSucceededFuture(line) }
        if ended { return eventLoop.makeSucceededFuture(nil) }
        let promise = eventLoop.makePromise(of: String?.self)
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
    static let failsafe: TimeAmount = .seconds(20)

    private init(channel: any Channel, collector: NIOLoopBound<LineCollector>) {
        self.channel = channel
        self.collector = collector
    }

    /// How a test client speaks TLS: trusting the test CA, optionally with a client certificate.
    struct TLS: Sendable {
        var clientCertificate: DevelopmentClientCertificate?
        var serverHostname: String? = "localhost"

        static let plain = TLS()

        static func withCertificate(_ name: String) -> TLS {
            TLS(clientCertificate: TestCertificates.client(name))
        }

        func makeHandler() throws -> OpenSSLHandler {
            let context = try TLSContext.client(
                trustRootsPath: TestCertificates.set.caCertificatePath,
                certificateChainPath: clientCertificate?.certificatePath,
                privateKeyPath: clientCertificate?.privateKeyPath
            )
            return try OpenSSLHandler(context: context, mode: .client(serverHostname: serverHostname))
        }
    }

    /// Connects to `port` on 127.0.0.1. `autoRead: false` makes a client that never reads (a stalled reader);
    /// `tls` speaks TLS (to the server's TLS port).
    static func connect(
        port: Int,
        host: String = "127.0.0.1",
        autoRead: Bool = true,
        tls: TLS? = nil
    ) async throws -> TestClient {
        // The handlers go in before the connection is made: a fast server's greeting must not reach a pipeline
        // that cannot decode it yet.
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: autoRead)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try tls.makeHandler())
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineDecoder(maximumLength: 1 << 24))
                    )
                    try channel.pipeline.syncOperations.addHandler(LineCollector())
                }
            }
            .connect(host: host, port: port).get()
        let collector = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: LineCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return TestClient(channel: channel, collector: collector)
    }

    /// Connects, reads the greeting and logs in as `name`; returns once the welcome notice arrived.
    static func loggedIn(_ name: String, port: Int, tls: TLS? = nil) async throws -> TestClient {
        let client = try await connect(port: port, tls: tls)
        try await client.login(name)
        return client
    }

    func login(_ name: String) async throws {
        _ = try await readUntil { $0.hasPrefix("* Choose a username") }
        send(name)
        _ = try await readUntil { $0.hasPrefix("* Welcome, \(name)!") }
    }

    func send(_ line: String) {
        sendRaw(Array((line + "\n").utf8))
    }

    func sendRaw(_ bytes: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// The next line, or nil once the server closed the connection.
    func readLine(timeout: TimeAmount = failsafe) async throws -> String? {
        let collector = self.collector
        return try await channel.eventLoop.flatSubmit {
            collector.value.next(on: collector.eventLoop, timeout: timeout)
        }.get()
    }

    /// Reads lines until one matches; returns it. Throws if the connection ends first.
    @discardableResult
    func readUntil(_ description: String = "a matching line", _ matches: (String) -> Bool) async throws -> String {
        while true {
            guard let line = try await readLine() else { throw TestTimeout(waitingFor: "\(description) (EOF)") }
            if matches(line) { return line }
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

    func close() async {
        try? await channel.close()
    }
}
