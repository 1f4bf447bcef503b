import Foundation
import NIOCore
import NIOPosix
import SecureChat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects a client's lines on its event loop (the same shape as `TestClient`'s private collector).
private final class AbuseLineCollector: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked Sendable: every property is touched only on the channel's event loop.
    typealias InboundIn = InboundLine

    private var buffered = CircularBuffer<String>()
    private var waiter: EventLoopPromise<String?>?
    private var ended = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .line(let bytes) = unwrapInboundIn(data) {
            let line = String(buffer: bytes)
            if let waiter {
                self.waiter = nil
                waiter.succeed(line)
            } else {
                buffered.append(line)
            }
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

    func next(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<String?> {
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

/// A line client like `TestClient` that can also choose its source address (any 127.x.y.z works on Linux
/// loopback), so tests can play several client addresses for per-address caps and address bans, and can
/// shrink its receive buffer to stall sooner.
final class AbuseClient: Sendable {
    let channel: any Channel
    private let collector: NIOLoopBound<AbuseLineCollector>

    private init(channel: any Channel, collector: NIOLoopBound<AbuseLineCollector>) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(
        port: Int,
        from source: String = "127.0.0.1",
        tls: TestClient.TLS? = nil,
        receiveBuffer: Int? = nil
    ) async throws -> AbuseClient {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        // The collector is made here, not looked up after connecting: a connection the server refuses may be
        // closed (its pipeline emptied) before a lookup could run.
        let collector = AbuseLineCollector()
        let channel = try await bootstrap
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
            .connect(host: "127.0.0.1", port: port).get()
        let bound = try await channel.eventLoop.submit { NIOLoopBound(collector, eventLoop: channel.eventLoop) }.get()
        return AbuseClient(channel: channel, collector: bound)
    }

    static func loggedIn(
        _ name: String,
        port: Int,
        from source: String = "127.0.0.1",
        tls: TestClient.TLS? = nil
    ) async throws -> AbuseClient {
        let client = try await connect(port: port, from: source, tls: tls)
        try await client.login(name)
        return client
    }

    func login(_ name: String) async throws {
        try await readUntil("the username prompt") { $0.hasPrefix("* Choose a username") }
        send(name)
        try await readUntil("the welcome") { $0.hasPrefix("* Welcome, \(name)!") }
    }

    func send(_ line: String) {
        sendRaw(Array((line + "\n").utf8))
    }

    func sendRaw(_ bytes: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// The next line, or nil once the connection ended.
    func readLine(timeout: TimeAmount = TestClient.failsafe) async throws -> String? {
        let collector = self.collector
        return try await channel.eventLoop.flatSubmit {
            collector.value.next(on: collector.eventLoop, timeout: timeout)
        }.get()
    }

    @discardableResult
    func readUntil(_ description: String = "a matching line", _ matches: (String) -> Bool) async throws -> String {
        while true {
            guard let line = try await readLine() else { throw TestTimeout(waitingFor: "\(description) (EOF)") }
            if matches(line) { return line }
        }
    }

    func readToEnd() async throws -> [String] {
        var lines: [String] = []
        while let line = try await readLine() { lines.append(line) }
        return lines
    }

    func sync() async throws -> [String] {
        send("/ping")
        var lines: [String] = []
        while true {
            guard let line = try await readLine() else { throw TestTimeout(waitingFor: "* pong (EOF)") }
            if line == "* pong" { return lines }
            lines.append(line)
        }
    }

    func close() async {
        try? await channel.close()
    }
}

/// The kernel's view of one socket's keepalive options, read with getsockopt.
struct KeepaliveOptions: Equatable, CustomStringConvertible {
    var keepalive: Int32
    var idleSeconds: Int32
    var intervalSeconds: Int32
    var probes: Int32
    var userTimeoutMillis: Int32
    var noDelay: Int32

    var description: String {
        "keepalive=\(keepalive) idle=\(idleSeconds)s interval=\(intervalSeconds)s probes=\(probes)"
            + " user_timeout=\(userTimeoutMillis)ms nodelay=\(noDelay)"
    }
}

/// Finds, among this process's descriptors, the TCP socket whose local port is `localPort` and whose peer port is
/// `peerPort`: with the server in-process, that is the server's end of a test client's connection. Linux only
/// (reads /proc/self/fd).
enum AcceptedSocket {
    static func descriptor(localPort: Int, peerPort: Int) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        for entry in entries {
            guard let fd = Int32(entry) else { continue }
            guard port(of: fd, peer: false) == localPort, port(of: fd, peer: true) == peerPort else { continue }
            return fd
        }
        return nil
    }

    private static func port(of fd: Int32, peer: Bool) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
            }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
    }

    #if os(Linux)
    static func keepaliveOptions(of fd: Int32) -> KeepaliveOptions? {
        func read(_ level: Int32, _ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, level, name, &value, &length) == 0 ? value : nil
        }
        let tcp = Int32(IPPROTO_TCP)
        guard let keepalive = read(SOL_SOCKET, SO_KEEPALIVE),
            let idle = read(tcp, TCP_KEEPIDLE),
            let interval = read(tcp, TCP_KEEPINTVL),
            let probes = read(tcp, TCP_KEEPCNT),
            let userTimeout = read(tcp, TCP_USER_TIMEOUT),
            let noDelay = read(tcp, TCP_NODELAY)
        else { return nil }
        return KeepaliveOptions(
            keepalive: keepalive == 0 ? 0 : 1, idleSeconds: idle, intervalSeconds: interval, probes: probes,
            userTimeoutMillis: userTimeout, noDelay: noDelay == 0 ? 0 : 1
        )
    }
    #endif
}
