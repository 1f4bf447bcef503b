import Foundation
import NIOCore
import NIOEmbedded
import SecureChat

/// One development PKI and the contexts built from it, made once per fuzzer process: key generation and
/// context setup cost milliseconds, which would otherwise dominate every execution.
public enum TLSFixtures {
    public static let certificates: DevelopmentCertificateSet = {
        var template = Array("\(NSTemporaryDirectory())/securechat-fuzz-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { fatalError("mkdtemp failed") }
        return try! DevelopmentCertificates.generate(directory: String(cString: created))
    }()

    public static let serverContext: TLSContext = try! TLSContext.server(
        certificateChainPath: certificates.certificatePath,
        privateKeyPath: certificates.privateKeyPath
    )

    public static let clientContext: TLSContext = try! TLSContext.client(
        trustRootsPath: certificates.caCertificatePath
    )

    /// The first flight of a real client (its ClientHello), for the seed corpus.
    public static func clientHello() throws -> [UInt8] {
        let client = try TLSPeer(context: clientContext, mode: .client(serverHostname: "localhost"))
        client.activate()
        return client.takeOutbound().flatMap { Array($0.readableBytesView) }
    }
}

/// Sits above the TLS handler and remembers what reaches it. It swallows errors, so `writeInbound` does not
/// rethrow them; the fuzz targets assert on them instead.
public final class TLSRecorder: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer

    public private(set) var handshakes = 0
    public private(set) var errors: [any Error] = []
    public private(set) var received: [UInt8] = []
    public private(set) var closeNotifies = 0

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += Self.unwrapInboundIn(data).readableBytesView
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { handshakes += 1 }
        if event is TLSCloseNotifyReceived { closeNotifies += 1 }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }
}

@available(*, unavailable)
extension TLSRecorder: Sendable {}

/// One end of an in-memory TLS connection: an EmbeddedChannel with an `OpenSSLHandler` and a recorder.
public struct TLSPeer {
    public let channel: EmbeddedChannel
    public let recorder = TLSRecorder()

    public init(context: TLSContext, mode: OpenSSLHandler.Mode) throws {
        let handler = try OpenSSLHandler(context: context, mode: mode)
        self.channel = EmbeddedChannel(handlers: [handler, recorder])
    }

    /// Makes the channel active, which starts the handshake.
    public func activate() {
        channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 9443), promise: nil)
    }

    /// Ciphertext written so far, write by write.
    public func takeOutbound() -> [ByteBuffer] {
        var writes: [ByteBuffer] = []
        while let buffer = try! channel.readOutbound(as: ByteBuffer.self) {
            writes.append(buffer)
        }
        return writes
    }

    /// Hands `bytes` to the handler as one read, as a socket would; dropped once the channel has closed.
    public func receive(_ bytes: some Sequence<UInt8>) {
        guard channel.isActive else { return }
        try! channel.writeInbound(ByteBuffer(bytes: Array(bytes)))
        channel.embeddedEventLoop.run()
    }

    /// The peer vanishes (the socket reports EOF), timers run out, the channel is torn down.
    public func end() {
        if channel.isActive {
            channel.pipeline.fireChannelInactive()
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        _ = try! channel.finish(acceptAlreadyClosed: true)
    }

    /// Whether the handler's contract holds: at most one error, always a `TLSError`, and an error closes.
    public func checkErrorContract(_ target: String) {
        require(recorder.errors.count <= 1, "\(target): more than one error: \(recorder.errors)")
        if let error = recorder.errors.first {
            require(error is TLSError, "\(target): not a TLSError: \(error)")
            require(!channel.isActive, "\(target): still open after \(error)")
        }
    }
}

/// Moves ciphertext between two peers until neither has more to say (bounded, so a ping-pong bug is a finding,
/// not a hang).
public func shuttle(_ first: TLSPeer, _ second: TLSPeer) {
    for _ in 0..<100 {
        var moved = false
        for (from, to) in [(first, second), (second, first)] {
            for buffer in from.takeOutbound() {
                moved = true
                to.receive(buffer.readableBytesView)
            }
        }
        if !moved { return }
    }
    fatalError("the peers kept talking for 100 rounds")
}
