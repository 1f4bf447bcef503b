import NIOCore
import NIOEmbedded
import Testing

@testable import SecureChat

/// Records the user events an ``OpenSSLHandler`` fires about the end of the stream.
private final class EndOfStreamRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    enum Event: Equatable {
        case closeNotify, inputClosed, unclean
    }

    var events: [Event] = []

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSCloseNotifyReceived {
            self.events.append(.closeNotify)
        } else if event as? ChannelEvent == .inputClosed {
            self.events.append(.inputClosed)
        } else if event is TLSUncleanShutdown {
            self.events.append(.unclean)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Counts `read()` calls that get past the TLS handler to the channel.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0

    func read(context: ChannelHandlerContext) {
        self.reads += 1
        context.read()
    }
}

/// Holds what a promise callback did. `@unchecked Sendable`: EmbeddedEventLoop runs callbacks on the test's
/// thread, synchronously.
private final class NestedClose: @unchecked Sendable {
    var outcome: TLSFutureOutcome?
}

@Suite("TLS handler: closing, re-entrancy, end of stream, backpressure")
struct TLSHandlerCloseTests {
    @Test func aWriteCallbackThatClosesAgainGetsOneCloseNotifyAndTheOriginalPromiseCompletes() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        let nested = NestedClose()
        let channel = server.channel
        channel.write(ByteBuffer(string: "never flushed")).whenFailure { _ in
            nested.outcome = TLSFutureOutcome(channel.close())
        }

        let closed = TLSFutureOutcome(server.channel.close())

        #expect(nested.outcome != nil, "the pending write failed and its callback ran")
        #expect(closed.succeeded, "the original close promise is completed")
        #expect(nested.outcome?.succeeded == true)
        #expect(!server.channel.isActive, "a close while closing closes at once")
        let sent = try server.takeOutbound()
        #expect(sent.count == 1, "exactly one close_notify: \(sent.map(\.readableBytes))")
        // The shutdown timer was cancelled: time passing changes nothing, and the client sees one close_notify.
        server.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(server.recorder.inactiveCount == 1)
        #expect(server.recorder.errors.isEmpty, "\(server.recorder.errors)")
        for buffer in sent {
            try client.channel.writeInbound(buffer)
        }
        #expect(client.recorder.errors.isEmpty, "\(client.recorder.errors)")
    }

    @Test func aSecondCloseWhileWaitingForThePeersCloseNotifyClosesAtOnce() throws {
        let pki = try TLSTestPKI()
        let (_, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())

        let first = TLSFutureOutcome(server.channel.close())
        #expect(server.channel.isActive, "the first close waits for the peer")
        #expect(first.result == nil)
        let second = TLSFutureOutcome(server.channel.close())

        #expect(!server.channel.isActive)
        #expect(first.succeeded)
        #expect(second.succeeded)
        #expect(server.recorder.inactiveCount == 1)
        #expect(try server.takeOutbound().count == 1, "one close_notify")
    }

    @Test func dataArrivingAfterOurCloseNotifyIsNotPassedOn() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())

        server.channel.close(promise: nil)
        let closeNotify = try server.takeOutbound()
        // The client has not seen it yet and keeps talking.
        client.send("written before the client saw close_notify\n")
        for buffer in try client.takeOutbound() {
            try server.channel.writeInbound(buffer)
        }
        #expect(server.receivedText.isEmpty, "\(server.receivedText)")
        #expect(server.channel.isActive, "still waiting for the peer's close_notify")

        // Then the client answers, and the shutdown completes cleanly.
        for buffer in closeNotify {
            try client.channel.writeInbound(buffer)
        }
        try interact(client, server)
        #expect(!server.channel.isActive)
        #expect(server.receivedText.isEmpty)
        #expect(server.recorder.errors.isEmpty, "\(server.recorder.errors)")
    }

    @Test func aPeerVanishingWithoutCloseNotifyFiresAnUncleanShutdownEvent() throws {
        let pki = try TLSTestPKI()
        let (_, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        let recorder = EndOfStreamRecorder()
        try server.channel.pipeline.syncOperations.addHandler(recorder)

        server.channel.pipeline.fireChannelInactive()

        #expect(recorder.events == [.unclean])
        #expect(server.recorder.errors.isEmpty, "no error: most clients leave this way")
    }

    /// OpenSSL drops the session of an `SSL` freed without a shutdown mark; a peer that vanished after a complete
    /// handshake must still be able to resume (issue 24, point 3).
    @Test(arguments: [TLSProtocolVersion.tlsv1_2, .tlsv1_3])
    func aPeerVanishingWithoutCloseNotifyCanStillResume(version: TLSProtocolVersion) throws {
        let pki = try TLSTestPKI()
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext(maximumVersion: version)
        weak var firstServerHandler: OpenSSLHandler?
        let session: TLSSession
        do {
            let (client, server) = try connectedPair(server: serverContext, client: clientContext)
            session = try #require(client.handler.resumableSession)
            firstServerHandler = server.handler
            server.channel.pipeline.fireChannelInactive()
            server.channel.tearDown()
        }
        #expect(firstServerHandler == nil, "the first connection's SSL is freed")

        let (client, server) = try connectedPair(server: serverContext, client: clientContext, session: session)

        #expect(client.recorder.handshakes.first?.sessionReused == true)
        #expect(server.recorder.handshakes.first?.sessionReused == true)
    }

    @Test func aCloseNotifyFromThePeerAnnouncesTheEndOfInputBeforeClosing() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        let recorder = EndOfStreamRecorder()
        try server.channel.pipeline.syncOperations.addHandler(recorder)

        client.channel.close(promise: nil)
        try interact(client, server)

        #expect(recorder.events == [.closeNotify, .inputClosed])
        #expect(!server.channel.isActive)
    }

    @Test func readsAreHeldWhileTheChannelCannotWriteAndResumeWhenItCan() throws {
        let pki = try TLSTestPKI()
        let (_, server) = try connectedPair(server: try pki.serverContext(), client: try pki.clientContext())
        let counter = ReadCounter()
        try server.channel.pipeline.syncOperations.addHandler(counter, position: .first)

        server.channel.isWritable = false
        server.channel.pipeline.fireChannelWritabilityChanged()
        server.channel.read()
        #expect(counter.reads == 0, "a peer that does not read gets nothing more read")

        server.channel.isWritable = true
        server.channel.pipeline.fireChannelWritabilityChanged()
        #expect(counter.reads == 1, "the held read goes out once the channel can write again")
        server.channel.read()
        #expect(counter.reads == 2)
    }
}
