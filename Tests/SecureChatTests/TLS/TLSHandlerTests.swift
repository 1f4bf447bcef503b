import NIOCore
import NIOEmbedded
import Testing

@testable import SecureChat

@Suite("TLS handler: handshake, data, close")
struct TLSHandlerTests {
    @Test func handshakeCompletesWithTLS13OnBothSides() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())

        for peer in [client, server] {
            #expect(peer.recorder.errors.isEmpty, "\(peer.recorder.errors)")
            let event = try #require(peer.recorder.handshakes.first)
            #expect(peer.recorder.handshakes.count == 1)
            #expect(event.protocolVersion == "TLSv1.3")
            #expect(event.cipher.hasPrefix("TLS_"))
            #expect(!event.sessionReused)
            #expect(peer.handler.handshakeInfo == event)
        }
        // No client certificate was requested.
        #expect(server.recorder.handshakes.first?.peerCertificateFingerprint == nil)
    }

    @Test func dataFlowsBothWays() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())

        client.send("hello from the client\n")
        try interact(client, server)
        server.send("hello from the server\n")
        try interact(client, server)

        #expect(server.receivedText == "hello from the client\n")
        #expect(client.receivedText == "hello from the server\n")
    }

    @Test func oneMebibyteWriteArrivesIntactAcrossRecords() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        var generator = SystemRandomNumberGenerator()
        let payload = (0..<(1 << 20)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }

        let written = TLSFutureOutcome(client.channel.writeAndFlush(ByteBuffer(bytes: payload)))
        try interact(client, server)

        #expect(server.recorder.received.readableBytes == payload.count)
        #expect(Array(server.recorder.received.readableBytesView) == payload)
        #expect(written.succeeded)
        // The BIOs that carried the burst were replaced: an idle connection does not keep 1 MiB around.
        #expect(client.handler.bufferedAllocation < 64 * 1024, "\(client.handler.bufferedAllocation)")
        #expect(server.handler.bufferedAllocation < 64 * 1024, "\(server.handler.bufferedAllocation)")
    }

    @Test func severalWritesAndOneFlushBecomeOneCiphertextWriteCompletingEveryPromise() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())

        let outcomes = ["one\n", "two\n", "three\n"].map { line in
            TLSFutureOutcome(client.channel.write(ByteBuffer(string: line)))
        }
        #expect(try client.takeOutbound().isEmpty, "nothing may be sent before flush")
        client.channel.flush()

        let writes = try client.takeOutbound()
        #expect(writes.count == 1)
        #expect(outcomes.allSatisfy { $0.succeeded })
        for buffer in writes {
            try server.channel.writeInbound(buffer)
        }
        #expect(server.receivedText == "one\ntwo\nthree\n")
    }

    @Test func writesBeforeTheHandshakeAreDeliveredAfterIt() throws {
        let pki = try TLSTestPKI()
        let server = try TLSTestPeer(context: try pki.serverContext(), mode: .server)
        let client = try TLSTestPeer(context: try pki.clientContext(), mode: .client(serverHostname: "localhost"))
        let early = TLSFutureOutcome(client.channel.writeAndFlush(ByteBuffer(string: "early bird\n")))
        server.send("server speaks first\n")

        try server.activate()
        try client.activate()
        #expect(early.result == nil)
        try interact(client, server)

        #expect(early.succeeded)
        #expect(server.receivedText == "early bird\n")
        #expect(client.receivedText == "server speaks first\n")
        #expect(client.recorder.errors.isEmpty && server.recorder.errors.isEmpty)
    }

    @Test(arguments: [true, false])
    func closeNotifyClosesBothSidesCleanly(clientCloses: Bool) throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        let (closer, other) = clientCloses ? (client, server) : (server, client)

        let closed = TLSFutureOutcome(closer.channel.close())
        #expect(closer.channel.isActive, "must wait for the peer's close_notify")
        try interact(client, server)

        #expect(closed.succeeded)
        #expect(!client.channel.isActive)
        #expect(!server.channel.isActive)
        #expect(other.recorder.inactiveCount == 1)
        #expect(client.recorder.errors.isEmpty, "\(client.recorder.errors)")
        #expect(server.recorder.errors.isEmpty, "\(server.recorder.errors)")
    }

    @Test func closeGivesUpAfterTheTimeoutWhenThePeerNeverAnswers() throws {
        let pki = try TLSTestPKI()
        let server = try TLSTestPeer(context: try pki.serverContext(), mode: .server, shutdownTimeout: .seconds(2))
        let client = try TLSTestPeer(context: try pki.clientContext(), mode: .client(serverHostname: "localhost"))
        try server.activate()
        try client.activate()
        try interact(client, server)

        server.channel.close(promise: nil)
        #expect(try server.takeOutbound().count == 1, "close_notify is sent at once")
        server.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(server.channel.isActive)
        server.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!server.channel.isActive)
        #expect(server.recorder.errors.isEmpty)
    }

    @Test func peerVanishingMidHandshakeFiresExactlyOneError() throws {
        let pki = try TLSTestPKI()
        let server = try TLSTestPeer(context: try pki.serverContext(), mode: .server)
        let client = try TLSTestPeer(context: try pki.clientContext(), mode: .client(serverHostname: "localhost"))
        try server.activate()
        try client.activate()
        // Half of the ClientHello, then the TCP connection goes away.
        var hello = try #require(client.takeOutbound().first)
        let half = hello.readSlice(length: hello.readableBytes / 2)
        try server.channel.writeInbound(try #require(half))
        server.channel.pipeline.fireChannelInactive()

        #expect(server.recorder.handshakes.isEmpty)
        #expect(server.recorder.tlsErrors.map(\.code) == [.eofDuringHandshake])
        #expect(server.recorder.errors.count == 1)
    }

    @Test func peerVanishingWithoutCloseNotifyAfterTheHandshakeIsAnOrdinaryDisconnect() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        let unflushed = TLSFutureOutcome(server.channel.write(ByteBuffer(string: "never flushed")))

        server.channel.pipeline.fireChannelInactive()

        #expect(server.recorder.errors.isEmpty, "\(server.recorder.errors)")
        #expect(server.recorder.inactiveCount == 1)
        #expect(unflushed.failed)
        _ = client
    }

    @Test func garbageFromThePeerFailsOnceAndCloses() throws {
        let pki = try TLSTestPKI()
        let (_, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())

        try server.channel.writeInbound(ByteBuffer(string: "this is not a TLS record, not at all\r\n"))
        server.channel.pipeline.fireChannelInactive()

        #expect(server.recorder.tlsErrors.map(\.code) == [.readFailed])
        #expect(server.recorder.errors.count == 1)
        #expect(!server.channel.isActive)
        let description = try #require(server.recorder.tlsErrors.first).description
        #expect(description.contains("error:"), "carries OpenSSL's reason: \(description)")
    }

    @Test func garbageDuringTheHandshakeFailsItOnce() throws {
        let pki = try TLSTestPKI()
        let server = try TLSTestPeer(context: try pki.serverContext(), mode: .server)
        try server.activate()

        try server.channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))

        #expect(server.recorder.tlsErrors.map(\.code) == [.handshakeFailed])
        #expect(server.recorder.errors.count == 1)
        #expect(!server.channel.isActive)
    }

    @Test func aHandlerAddedToAnActiveChannelStartsTheHandshakeAtOnce() throws {
        let pki = try TLSTestPKI()
        let server = try TLSTestPeer(context: try pki.serverContext(), mode: .server)
        try server.activate()
        let channel = EmbeddedChannel()
        defer { channel.tearDown() }
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9443), promise: nil)
        let handler = try OpenSSLHandler(context: try pki.clientContext(), mode: .client(serverHostname: "localhost"))
        try channel.pipeline.syncOperations.addHandler(handler)

        let hello = try #require(try channel.readOutbound(as: ByteBuffer.self), "ClientHello sent on add")
        try server.channel.writeInbound(hello)
        for buffer in try server.takeOutbound() {
            try channel.writeInbound(buffer)
        }
        #expect(handler.handshakeInfo?.protocolVersion == "TLSv1.3")
    }

    @Test func closingDuringTheHandshakeClosesAtOnceWithoutError() throws {
        let pki = try TLSTestPKI()
        let server = try TLSTestPeer(context: try pki.serverContext(), mode: .server)
        try server.activate()
        let pending = TLSFutureOutcome(server.channel.writeAndFlush(ByteBuffer(string: "queued")))

        let closed = TLSFutureOutcome(server.channel.close())

        #expect(closed.succeeded)
        #expect(pending.failed)
        #expect(!server.channel.isActive)
        #expect(server.recorder.errors.isEmpty)
    }

    @Test func writesAfterCloseFail() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        client.channel.close(promise: nil)
        let late = TLSFutureOutcome(client.channel.writeAndFlush(ByteBuffer(string: "too late")))
        #expect(late.failed)
        try interact(client, server)
        #expect(server.receivedText.isEmpty)
    }
}
