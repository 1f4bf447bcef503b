import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import SecureChat
import Testing

// Helpers for the end-to-end TLS tests (Tests/SecureChatTests/TLSEndToEnd/): raw TCP peers that speak no TLS,
// one-shot TLS handshakes with any trust store, a real ClientHello, polling with a failsafe, and process memory.

/// Gathers whatever bytes arrive and notices the end of the connection.
private final class RawByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var received: [UInt8] = []
    let ended: EventLoopPromise<[UInt8]>

    init(ended: EventLoopPromise<[UInt8]>) {
        self.ended = ended
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += Self.unwrapInboundIn(data).readableBytesView
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended.succeed(received)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset from the server ends the connection as well as a FIN does.
        context.close(promise: nil)
    }
}

/// A TCP connection that speaks no TLS: for sending the server's TLS port nothing, garbage or half a handshake.
final class RawConnection: Sendable {
    let channel: any Channel
    private let ended: EventLoopFuture<[UInt8]>

    private init(channel: any Channel, ended: EventLoopFuture<[UInt8]>) {
        self.channel = channel
        self.ended = ended
    }

    static func connect(port: Int, host: String = "127.0.0.1") async throws -> RawConnection {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let ended = eventLoop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(SanitizedBuild.scaled(.seconds(10)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawByteCollector(ended: ended))
                }
            }
            .connect(host: host, port: port).get()
        return RawConnection(channel: channel, ended: ended.futureResult)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Waits until the server closes the connection; returns every byte it sent. Throws after `timeout` (a
    /// failsafe: the test fails instead of hanging when the server never closes).
    func waitForServerClose(timeout: TimeAmount = TestClient.failsafe) async throws -> [UInt8] {
        let ended = self.ended
        let eventLoop = ended.eventLoop
        let outcome = eventLoop.makePromise(of: [UInt8].self)
        eventLoop.execute {
            let settled = NIOLoopBoundBox(false, eventLoop: eventLoop)
            let timer = eventLoop.scheduleTask(in: timeout) {
                guard !settled.value else { return }
                settled.value = true
                outcome.fail(TestTimeout(waitingFor: "the server to close a raw connection"))
            }
            ended.whenSuccess { bytes in
                guard !settled.value else { return }
                settled.value = true
                timer.cancel()
                outcome.succeed(bytes)
            }
        }
        return try await outcome.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// Waits for the first TLS outcome of a client connection: handshake completed, failed, or connection gone.
private final class HandshakeOutcomeRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let outcome: EventLoopPromise<TLSHandshakeCompleted>
    private var settled = false

    init(outcome: EventLoopPromise<TLSHandshakeCompleted>) {
        self.outcome = outcome
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted, !settled {
            settled = true
            outcome.succeed(completed)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !settled {
            settled = true
            outcome.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            outcome.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The server's greeting is not what these probes are about.
    }
}

enum TLSProbe {
    /// Connects to `port`, runs a TLS handshake as a client of `context`, then closes. Returns what was
    /// negotiated (with the server's certificate fingerprint when the context verifies peers), or the error.
    static func handshake(
        port: Int,
        context: TLSContext,
        serverHostname: String? = "localhost"
    ) async throws -> Result<TLSHandshakeCompleted, any Error> {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let outcome = eventLoop.makePromise(of: TLSHandshakeCompleted.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(SanitizedBuild.scaled(.seconds(10)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try OpenSSLHandler(
                            context: context, mode: .client(serverHostname: serverHostname),
                            shutdownTimeout: .seconds(1)
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHandler(HandshakeOutcomeRecorder(outcome: outcome))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            // A promise left unfulfilled stops a debug build ("leaking promise"), the whole test run with it.
            outcome.fail(error)
            throw error
        }
        let timer = eventLoop.scheduleTask(in: TestClient.failsafe) { channel.close(promise: nil) }
        let result: Result<TLSHandshakeCompleted, any Error>
        do {
            result = .success(try await outcome.futureResult.get())
        } catch {
            result = .failure(error)
        }
        timer.cancel()
        try? await channel.close()
        return result
    }

    /// A client context trusting only `caPath`.
    static func trusting(_ caPath: String) throws -> TLSContext {
        try TLSContext.client(trustRootsPath: caPath)
    }
}

enum TLSClientHelloBytes {
    /// The first flight of a real client-mode `OpenSSLHandler`: a complete TLS record holding a ClientHello.
    static func real() throws -> [UInt8] {
        let context = try TLSContext.client(trustRootsPath: TestCertificates.set.caCertificatePath)
        let channel = EmbeddedChannel(
            handler: try OpenSSLHandler(context: context, mode: .client(serverHostname: "localhost")))
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9443)).wait()
        var hello: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            hello += buffer.readableBytesView
        }
        return hello
    }
}

/// A TLS and a plaintext client log in and exchange a line both ways: proof the server still serves.
func expectServerStillServes(_ server: TestServer, tag: String) async throws {
    let secure = try await TestClient.loggedIn("tls-\(tag)", port: server.tlsPort, tls: .plain)
    let plain = try await TestClient.loggedIn("plain-\(tag)", port: server.port)
    try await secure.readUntil { $0 == "* plain-\(tag) joined #lobby" }
    secure.send("ping from tls \(tag)")
    #expect(try await plain.readUntil { $0.hasPrefix("tls-\(tag):") } == "tls-\(tag): ping from tls \(tag)")
    plain.send("pong from plain \(tag)")
    #expect(try await secure.readUntil { $0.hasPrefix("plain-\(tag):") } == "plain-\(tag): pong from plain \(tag)")
    await secure.close()
    await plain.close()
}

enum TLSProcessMemory {
    /// Resident set size of a process (`VmRSS` in `/proc/<pid>/status`), in bytes; `self` for this process.
    static func residentBytes(of pid: String = "self") throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kibibytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else {
            throw ProcessRunnerError("no VmRSS in /proc/\(pid)/status")
        }
        return kibibytes * 1024
    }
}
