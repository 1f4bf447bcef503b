import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import SecureChat

/// The transport layers under a listener: what each answers, and what installing one does to a pipeline and
/// to the counters.
@Suite struct TransportLayerTests {
    private let log = ConnectionLog(plain: Logger(label: "transport-layer-tests"))

    @Test func plaintextIsEstablishedAtOnceAndAddsNoHandler() throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        let transport = PlaintextTransport()
        let established = try transport.install(on: channel, above: nil, log: log, acceptedAt: .now())
        guard case .success(let done) = Self.outcome(of: established) else {
            Issue.record("not established at once")
            return
        }
        #expect(done == .plaintext)
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: OpenSSLHandler.self) }
        #expect(transport.kind == .plaintext)
        #expect(transport.tellsRefusalsInALine)
        #expect(!transport.letsBannedAddressesReachHandshake)
    }

    @Test func tlsIsEstablishedByTheHandshakeAndCountsIt() throws {
        let pki = try TLSTestPKI()
        let counters = ServerCounters()
        let transport = Self.tls(try pki.serverContext(), counters: counters)
        let server = EmbeddedChannel()
        defer { server.tearDown() }
        let established = try transport.install(on: server, above: nil, log: log, acceptedAt: .now())
        #expect(Self.outcome(of: established) == nil)
        let client = try TLSTestPeer(context: try pki.clientContext(), mode: .client(serverHostname: "localhost"))
        server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9443), promise: nil)
        try client.activate()
        try Self.pump(client, server)

        let outcome = try #require(Self.outcome(of: established))
        guard case .success(let done) = outcome, case .tls(let version, let cipher) = done.transport else {
            Issue.record("not established over TLS: \(outcome)")
            return
        }
        #expect(version == "TLSv1.3")
        #expect(!cipher.isEmpty)
        #expect(done.peerCertificateFingerprint == nil)
        #expect(!done.speaksHTTP)
        #expect(counters[.tlsHandshakeCompleted] == 1)
        #expect(counters[.tlsHandshakeFailed] == 0)
        // The observer left the pipeline once the handshake was done; the TLS handler stays.
        #expect(throws: (any Error).self) {
            try server.pipeline.syncOperations.handler(type: TLSHandshakeObserver.self)
        }
        _ = try server.pipeline.syncOperations.handler(type: OpenSSLHandler.self)
    }

    /// A TLS transport installed on `server`, its channel connected, no byte from the client yet.
    private func connectedTLS(_ server: EmbeddedChannel, counters: ServerCounters) throws
        -> EventLoopFuture<EstablishedTransport>
    {
        let established = try Self.tls(try TLSTestPKI().serverContext(), counters: counters)
            .install(on: server, above: nil, log: log, acceptedAt: .now())
        server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9443), promise: nil)
        return established
    }

    @Test func aFailedHandshakeIsCountedByItsReasonAndFailsTheFuture() throws {
        let counters = ServerCounters()
        let server = EmbeddedChannel()
        defer { server.tearDown() }
        let established = try connectedTLS(server, counters: counters)
        // A plaintext client on the TLS port.
        _ = try server.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))

        guard case .failure(let error) = Self.outcome(of: established) else {
            Issue.record("the handshake did not fail")
            return
        }
        let tlsError = try #require(error as? TLSError)
        #expect(counters[.tlsHandshakeFailed] == 1)
        #expect(counters[.tlsHandshakeCompleted] == 0)
        #expect(counters.handshakeFailures == [tlsError.shortReason: 1])
    }

    /// A peer that connects and leaves (a port scanner) fails the handshake too: counted, by OpenSSL's reason.
    @Test func aPeerLeavingBeforeTheHandshakeIsCountedAsAFailure() throws {
        let counters = ServerCounters()
        let server = EmbeddedChannel()
        defer { server.tearDown() }
        let established = try connectedTLS(server, counters: counters)
        server.pipeline.fireChannelInactive()

        guard case .failure(let error) = Self.outcome(of: established) else {
            Issue.record("the handshake did not fail")
            return
        }
        let tlsError = try #require(error as? TLSError)
        #expect(tlsError.code == .eofDuringHandshake)
        #expect(counters[.tlsHandshakeFailed] == 1)
        #expect(counters.handshakeFailures == [tlsError.shortReason: 1])
    }

    /// A reload may configure operator certificates or drop them: the TLS transport asks at every accept.
    @Test func tlsLetsBannedAddressesThroughOnlyWhileOperatorsMayHoldCertificates() throws {
        let pki = try TLSTestPKI()
        let operatorsMayHoldCertificates = NIOLockedValueBox(false)
        let transport = TLSTransport(
            contexts: TLSContextStore(try pki.serverContext()), shutdownTimeout: .seconds(5),
            counters: ServerCounters(), metrics: ServerMetrics(counters: ServerCounters()),
            refusalLog: LogRateLimiter(),
            operatorsMayHoldCertificates: { operatorsMayHoldCertificates.withLockedValue { $0 } }
        )
        #expect(!transport.letsBannedAddressesReachHandshake)
        operatorsMayHoldCertificates.withLockedValue { $0 = true }
        #expect(transport.letsBannedAddressesReachHandshake)
        #expect(transport.kind == .tls)
        #expect(!transport.tellsRefusalsInALine)
    }

    private static func tls(_ context: TLSContext, counters: ServerCounters) -> TLSTransport {
        TLSTransport(
            contexts: TLSContextStore(context), shutdownTimeout: .seconds(5), counters: counters,
            metrics: ServerMetrics(counters: counters), refusalLog: LogRateLimiter(),
            operatorsMayHoldCertificates: { false }
        )
    }

    /// The future's result if it is fulfilled yet (an embedded loop runs callbacks at once), nil if not.
    private static func outcome(
        of future: EventLoopFuture<EstablishedTransport>
    ) -> Result<EstablishedTransport, any Error>? {
        let box = NIOLockedValueBox<Result<EstablishedTransport, any Error>?>(nil)
        future.whenComplete { result in box.withLockedValue { $0 = result } }
        return box.withLockedValue { $0 }
    }

    /// Moves ciphertext between the client peer and the server channel until neither has more to say.
    private static func pump(_ client: TLSTestPeer, _ server: EmbeddedChannel) throws {
        for _ in 0..<1000 {
            var moved = false
            for buffer in try client.takeOutbound() {
                moved = true
                try server.writeInbound(buffer)
            }
            while let buffer = try server.readOutbound(as: ByteBuffer.self) {
                moved = true
                try client.channel.writeInbound(buffer)
            }
            server.embeddedEventLoop.run()
            client.channel.embeddedEventLoop.run()
            if !moved { return }
        }
        throw TLSTestError.noProgressLimit
    }
}
