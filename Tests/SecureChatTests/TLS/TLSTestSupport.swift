import Foundation
import NIOCore
import NIOEmbedded
import Testing

@testable import SecureChat

/// A directory under the system temp directory, removed when this object goes away.
final class TLSTemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/securechat-tls-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        self.path = try #require(created.map { String(cString: $0) })
    }

    func file(_ name: String) -> String {
        self.path + "/" + name
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// A throwaway PKI (CA, server certificate, client certificates) and the contexts tests usually need.
struct TLSTestPKI {
    let directory: TLSTemporaryDirectory
    let certificates: DevelopmentCertificateSet

    init(clientCertificateNames: [String] = []) throws {
        self.directory = try TLSTemporaryDirectory()
        self.certificates = try DevelopmentCertificates.generate(
            directory: self.directory.path,
            clientCertificateNames: clientCertificateNames
        )
    }

    func serverContext(requestClientCertificates: Bool = false) throws -> TLSContext {
        try TLSContext.server(
            certificateChainPath: self.certificates.certificatePath,
            privateKeyPath: self.certificates.privateKeyPath,
            clientCAPath: requestClientCertificates ? self.certificates.caCertificatePath : nil
        )
    }

    func clientContext(
        clientCertificate: DevelopmentClientCertificate? = nil,
        maximumVersion: TLSProtocolVersion = .tlsv1_3
    ) throws -> TLSContext {
        try TLSContext.client(
            trustRootsPath: self.certificates.caCertificatePath,
            certificateChainPath: clientCertificate?.certificatePath,
            privateKeyPath: clientCertificate?.privateKeyPath,
            maximumVersion: maximumVersion
        )
    }
}

/// Sits above the TLS handler and remembers everything that reaches it, so tests can assert on it.
/// It swallows errors: an EmbeddedChannel would otherwise rethrow them from the next `writeInbound`.
final class TLSEventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var handshakes: [TLSHandshakeCompleted] = []
    var errors: [any Error] = []
    var received = ByteBuffer()
    var inactiveCount = 0

    var tlsErrors: [TLSError] {
        self.errors.compactMap { $0 as? TLSError }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        self.received.writeBuffer(&buffer)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let handshake = event as? TLSHandshakeCompleted {
            self.handshakes.append(handshake)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.errors.append(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inactiveCount += 1
        context.fireChannelInactive()
    }
}

/// One end of an in-memory TLS connection: an EmbeddedChannel with an OpenSSLHandler and a recorder.
///
/// The channel is torn down when the peer goes away (see `deinit`), however the test ended.
final class TLSTestPeer {
    let channel: EmbeddedChannel
    let handler: OpenSSLHandler
    let recorder: TLSEventRecorder

    init(
        context: TLSContext,
        mode: OpenSSLHandler.Mode,
        session: TLSSession? = nil,
        shutdownTimeout: TimeAmount = .seconds(5)
    ) throws {
        self.handler = try OpenSSLHandler(
            context: context,
            mode: mode,
            resuming: session,
            shutdownTimeout: shutdownTimeout
        )
        self.recorder = TLSEventRecorder()
        self.channel = EmbeddedChannel(handlers: [self.handler, self.recorder])
    }

    deinit {
        self.channel.tearDown()
    }

    /// Makes the channel active, which starts the handshake.
    func activate() throws {
        self.channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9443), promise: nil)
    }

    func send(_ text: String) {
        self.channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
    }

    var receivedText: String {
        String(buffer: self.recorder.received)
    }

    /// Ciphertext this peer has written so far, as separate writes.
    func takeOutbound() throws -> [ByteBuffer] {
        var writes: [ByteBuffer] = []
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            writes.append(buffer)
        }
        return writes
    }
}

extension EmbeddedChannel {
    /// Closes and finishes the channel, whatever state its TLS handler is in. An EmbeddedChannel that is never
    /// closed is never freed (LeakSanitizer reports it): its pipeline's handler contexts and the timers on its event
    /// loop (the handler's shutdown timer) point back at it. Closing tears the pipeline down; a close that waits for
    /// the peer's close_notify is ended by its timer, so `finish` cannot wait on it forever; `finish` cancels what is
    /// left on the loop. Errors are not the test's business here: the test has ended.
    func tearDown() {
        self.close(promise: nil)
        self.embeddedEventLoop.advanceTime(by: .hours(1))
        _ = try? self.finish(acceptAlreadyClosed: true)
    }
}

enum TLSTestError: Error {
    case noProgressLimit
}

/// Moves ciphertext between the two peers until neither has anything more to say.
/// Bytes for a peer whose channel has closed are dropped, as a socket would.
func interact(_ first: TLSTestPeer, _ second: TLSTestPeer) throws {
    for _ in 0..<1000 {
        var moved = false
        for (from, to) in [(first, second), (second, first)] {
            for buffer in try from.takeOutbound() {
                moved = true
                if to.channel.isActive {
                    try to.channel.writeInbound(buffer)
                }
            }
        }
        first.channel.embeddedEventLoop.run()
        second.channel.embeddedEventLoop.run()
        if !moved {
            return
        }
    }
    throw TLSTestError.noProgressLimit
}

/// A client and a server peer, activated and handshaken.
func connectedPair(
    server serverContext: TLSContext,
    client clientContext: TLSContext,
    serverHostname: String? = "localhost",
    session: TLSSession? = nil
) throws -> (client: TLSTestPeer, server: TLSTestPeer) {
    let server = try TLSTestPeer(context: serverContext, mode: .server)
    let client = try TLSTestPeer(
        context: clientContext,
        mode: .client(serverHostname: serverHostname),
        session: session
    )
    try server.activate()
    try client.activate()
    try interact(client, server)
    return (client, server)
}

/// Records how a future completed. `@unchecked Sendable`: EmbeddedEventLoop runs every callback on the
/// test's own thread, synchronously, so there is no concurrent access.
final class TLSFutureOutcome: @unchecked Sendable {
    private(set) var result: Result<Void, any Error>?

    init(_ future: EventLoopFuture<Void>) {
        future.whenComplete { self.result = $0 }
    }

    var succeeded: Bool {
        if case .success = self.result { true } else { false }
    }

    var failed: Bool {
        if case .failure = self.result { true } else { false }
    }
}
