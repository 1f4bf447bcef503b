import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import SecureChat

/// Greets each client with its TLS version once the handshake completes, echoes lines, and closes on "bye".
private final class TLSGreeterHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let handshake = event as? TLSHandshakeCompleted {
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: "welcome \(handshake.protocolVersion)\n")))
                .whenComplete { _ in }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: Self.unwrapInboundIn(data))
        guard let bye = text.range(of: "bye\n") else {
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
            return
        }
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: String(text[..<bye.lowerBound]))), promise: nil)
        context.close(promise: nil)
    }
}

/// Collects text until `expected` lines have arrived.
private final class TLSLineCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var text = ""
    private let expected: Int
    private let promise: EventLoopPromise<String>

    init(expected: Int, promise: EventLoopPromise<String>) {
        self.expected = expected
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.text += String(buffer: Self.unwrapInboundIn(data))
        if self.text.filter({ $0 == "\n" }).count >= self.expected {
            self.promise.succeed(self.text)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.succeed(self.text)
        context.fireChannelInactive()
    }
}

@Suite("TLS over real sockets", .timeLimit(.minutes(1)))
struct TLSRealSocketTests {
    private func startServer(context: TLSContext, group: EventLoopGroup) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(OpenSSLHandler(context: context, mode: .server))
                    try operations.addHandler(TLSGreeterHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    @Test func aNIOClientAndServerTalkAndCloseCleanly() async throws {
        let pki = try TLSTestPKI()
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await self.startServer(context: serverContext, group: group)
        let port = try #require(server.localAddress?.port)

        let received = group.next().makePromise(of: String.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    let mode = OpenSSLHandler.Mode.client(serverHostname: "localhost")
                    try operations.addHandler(OpenSSLHandler(context: clientContext, mode: mode))
                    try operations.addHandler(TLSLineCollector(expected: 2, promise: received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let big = String(repeating: "x", count: 200_000)
        try await client.writeAndFlush(ByteBuffer(string: big + "\n")).get()

        let text = try await received.futureResult.get()
        #expect(text == "welcome TLSv1.3\n" + big + "\n")
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func opensslSClientConnectsVerifiesAndSeesACleanClose() async throws {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else {
            return
        }
        let pki = try TLSTestPKI()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await self.startServer(context: try pki.serverContext(), group: group)
        let port = try #require(server.localAddress?.port)

        let arguments = [
            "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-verify_hostname", "localhost",
            "-CAfile", pki.certificates.caCertificatePath, "-verify_return_error", "-ign_eof",
        ]
        let (status, text) = try await withProcess(openssl, arguments) { process in
            // "bye" makes the server close: s_client must then see our close_notify and exit by itself.
            process.send("hello")
            process.send("bye")
            let status = try await process.waitForExit()
            return (status, try await process.readToEnd().joined(separator: "\n"))
        }

        #expect(text.contains("Verify return code: 0 (ok)"), "\(text)")
        #expect(text.contains("welcome TLSv1.3"), "\(text)")
        #expect(text.contains("hello"), "\(text)")
        #expect(status == 0, "\(text)")
        try await server.close()
        try await group.shutdownGracefully()
    }
}
