import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SecureChat

/// Bytes that are not a chat client: what the churn and the soak throw at the server besides chat.
public enum ProbeBytes {
    /// The first 44 bytes of a TLS 1.2/1.3 ClientHello whose record header promises 512: a handshake that
    /// stops half way. The server has to wait for the rest until its login timeout, or until the client goes.
    public static func truncatedClientHello<G: RandomNumberGenerator>(using generator: inout G) -> [UInt8] {
        var bytes: [UInt8] = [
            0x16, 0x03, 0x01, 0x02, 0x00,  // handshake record, TLS 1.0 header version, 512 bytes
            0x01, 0x00, 0x01, 0xFC,  // ClientHello, 508 bytes
            0x03, 0x03,  // legacy_version TLS 1.2
        ]
        for _ in 0..<32 { bytes.append(UInt8.random(in: 0...255, using: &generator)) }  // random
        bytes.append(0x00)  // no session id; the cipher suites never come
        return bytes
    }

    /// `count` (at least 5) random bytes that a TLS server can reject at once: a whole record header that is
    /// no TLS record (the first byte is no content type, 20-23, and below 0x80, which would announce an SSLv2
    /// ClientHello; the second is no 3, the major version). Fewer bytes, or a header that happened to look
    /// valid, would make it wait for the rest of the record until its login timeout: a half handshake, which
    /// the soak sends on purpose elsewhere.
    public static func garbage<G: RandomNumberGenerator>(count: Int, using generator: inout G) -> [UInt8] {
        var bytes = (0..<max(count, 5)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] = UInt8.random(in: 24...127, using: &generator)
        if bytes[1] == 0x03 { bytes[1] = 0x47 }
        return bytes
    }
}

/// What one probe connection saw.
public struct ProbeOutcome: Sendable, Equatable {
    /// The TCP connection was made.
    public var connected = false
    /// The connection ended within the probe's time limit (or was ended by the probe itself on purpose).
    public var closed = false
    /// The probe closed it on purpose (``Connector/probe(index:target:tls:send:closeOnFirstRead:forward:timeout:)``
    /// with `closeOnFirstRead`), rather than the server.
    public var closedByProbe = false
    /// The first bytes received (up to 512), as the server sent them (ciphertext on TLS).
    public var received: [UInt8] = []

    public init() {}

    /// The received bytes as text, for plaintext answers.
    public var receivedText: String { String(decoding: received, as: UTF8.self) }
}

/// First in the pipeline of a probe: keeps the first bytes the server sends, optionally closes at the
/// first of them, and closes on any error (a TLS handshake that fails, a reset).
final class ProbeRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let closeOnFirstRead: Bool
    /// Whether received bytes go on up the pipeline (to a TLS client handler), or are only recorded.
    let forward: Bool
    /// Shared with the prober, which reads it after the close (when the pipeline has dropped its handlers).
    let outcome: NIOLockedValueBox<ProbeOutcome>

    init(closeOnFirstRead: Bool, forward: Bool, outcome: NIOLockedValueBox<ProbeOutcome>) {
        self.closeOnFirstRead = closeOnFirstRead
        self.forward = forward
        self.outcome = outcome
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        outcome.withLockedValue { outcome in
            let room = 512 - outcome.received.count
            if room > 0 { outcome.received += buffer.readableBytesView.prefix(room) }
        }
        if closeOnFirstRead {
            outcome.withLockedValue { $0.closedByProbe = true }
            context.close(promise: nil)
        } else if forward {
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

}

/// Last in a probe's pipeline: drops decrypted bytes and closes on errors (a failed TLS handshake).
final class ProbeSink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension Connector {
    /// One connection that is not a chat client: connects to `target` (a TLS client handshake runs if `tls`
    /// is given, whatever the port), sends `send`, then either closes at the first bytes from the server
    /// (`closeOnFirstRead`) or waits up to `timeout` for the server to close. A probe still open at the
    /// timeout is closed by the probe and reported with `closed == false`. With `forward` false the server's
    /// bytes are only recorded, never handed to the TLS client (which then only says its ClientHello).
    public func probe(
        index: Int, target: BenchTarget, tls: TLSContext?, send: [UInt8], closeOnFirstRead: Bool,
        forward: Bool = true, timeout: TimeAmount
    ) async -> ProbeOutcome {
        let host = target.host
        let outcome = NIOLockedValueBox(ProbeOutcome())
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(60))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ProbeRecorder(closeOnFirstRead: closeOnFirstRead, forward: forward, outcome: outcome))
                    if let tls {
                        let handler = try OpenSSLHandler(
                            context: tls, mode: .client(serverHostname: host), shutdownTimeout: .milliseconds(200))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(ProbeSink())
                }
            }
        bootstrap = bootstrap.bindingSource(index, of: sourceAddresses)
        guard let channel = try? await bootstrap.connect(host: target.host, port: target.port).get() else {
            return ProbeOutcome()
        }
        if !send.isEmpty {
            var buffer = channel.allocator.buffer(capacity: send.count)
            buffer.writeBytes(send)
            channel.writeAndFlush(buffer, promise: nil)
        }
        let closedInTime = await ProbeTimer.waitForClose(channel, timeout: timeout)
        if !closedInTime {
            channel.close(promise: nil)
            _ = await ProbeTimer.waitForClose(channel, timeout: .seconds(10))
        }
        return outcome.withLockedValue { outcome in
            outcome.connected = true
            outcome.closed = closedInTime
            return outcome
        }
    }
}
