import NIOCore
import NIOEmbedded
import Testing

@testable import SecureChat

/// Keeps every buffer the TLS handler passes up, as passed (not copied), and forwards it.
private final class PlaintextBufferCapture: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    var buffers: [ByteBuffer] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffers.append(Self.unwrapInboundIn(data))
        context.fireChannelRead(data)
    }
}

@Suite("What an idle TLS connection keeps")
struct TLSIdleBufferTests {
    /// A chat line typed but not yet ended stays in the line decoder, in the very buffer the TLS handler passed up.
    /// Measured with securechatd: 1,000 TLS connections that each sent one byte without a newline cost
    /// 64.6 KiB each against 41.8 KiB when idle with nothing pending (plaintext: 23.1 KiB either way).
    @Test("a few bytes of plaintext are passed up in a right-sized buffer, not a 16 KiB one")
    func smallReadsAreNotPinnedInLargeBuffers() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        let capture = PlaintextBufferCapture()
        try server.channel.pipeline.syncOperations.addHandler(capture, position: .after(server.handler))

        client.send("x")  // half a chat line: the line decoder keeps it until the newline comes
        try interact(client, server)

        let buffer = try #require(capture.buffers.last)
        #expect(buffer.readableBytes == 1)
        withKnownIssue("bug: SSLConnection.read reserves 16 KiB per SSL_read; the line decoder then keeps that buffer") {
            #expect(buffer.capacity <= 4096, "capacity \(buffer.capacity) for \(buffer.readableBytes) byte")
        }
    }
}
