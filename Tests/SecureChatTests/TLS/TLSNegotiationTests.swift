import NIOCore
import NIOEmbedded
import Testing

@testable import SecureChat

@Suite("TLS negotiation: versions, certificates, resumption")
struct TLSNegotiationTests {
    @Test func tls12ForcedByTheClientWorksWithAnECDHEAEADSuite() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(
            server: try pki.serverContext(),
            client: try pki.clientContext(maximumVersion: .tlsv1_2)
        )

        let event = try #require(server.recorder.handshakes.first)
        #expect(event.protocolVersion == "TLSv1.2")
        #expect(event.cipher.hasPrefix("ECDHE-ECDSA-"))
        #expect(event.cipher.contains("GCM") || event.cipher.contains("CHACHA20"))
        #expect(client.handler.handshakeInfo?.protocolVersion == "TLSv1.2")

        client.send("over TLS 1.2\n")
        try interact(client, server)
        #expect(server.receivedText == "over TLS 1.2\n")
    }

    @Test func aClientOfferingOnlyTLS11IsRefused() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(
            server: try pki.serverContext(),
            client: try TLSContext.legacyClientOfferingOnlyTLS11(trustRootsPath: pki.certificates.caCertificatePath)
        )

        #expect(server.recorder.handshakes.isEmpty)
        #expect(client.recorder.handshakes.isEmpty)
        let serverError = try #require(server.recorder.tlsErrors.first)
        #expect(serverError.code == .handshakeFailed)
        #expect(serverError.description.contains("unsupported protocol"), "\(serverError)")
        #expect(server.recorder.errors.count == 1)
        #expect(client.recorder.tlsErrors.map(\.code) == [.handshakeFailed])
        #expect(!server.channel.isActive)
    }

    @Test func aVerifiedClientCertificateYieldsItsFingerprint() throws {
        let pki = try TLSTestPKI(clientCertificateNames: ["alice"])
        let alice = try #require(pki.certificates.clientCertificates.first)
        let (client, server) = try connectedPair(
            server: try pki.serverContext(requestClientCertificates: true),
            client: try pki.clientContext(clientCertificate: alice)
        )

        let event = try #require(server.recorder.handshakes.first)
        let fromFile = DevelopmentCertificates.normalizedFingerprint(
            try DevelopmentCertificates.fingerprintSHA256(ofCertificateAt: alice.certificatePath)
        )
        #expect(event.peerCertificateFingerprint == fromFile)
        #expect(event.peerCertificateFingerprint == alice.fingerprintSHA256)
        #expect(fromFile.count == 64)
        #expect(client.recorder.errors.isEmpty && server.recorder.errors.isEmpty)
    }

    @Test func aClientWithoutCertificateStillConnectsWhenOneIsRequested() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(
            server: try pki.serverContext(requestClientCertificates: true),
            client: try pki.clientContext()
        )

        let event = try #require(server.recorder.handshakes.first)
        #expect(event.peerCertificateFingerprint == nil)
        #expect(client.recorder.handshakes.count == 1)
    }

    @Test func aClientCertificateFromAnotherCAIsRefused() throws {
        let pki = try TLSTestPKI()
        let stranger = try TLSTestPKI(clientCertificateNames: ["mallory"])
        let mallory = try #require(stranger.certificates.clientCertificates.first)
        let client = try TLSContext.client(
            trustRootsPath: pki.certificates.caCertificatePath,
            certificateChainPath: mallory.certificatePath,
            privateKeyPath: mallory.privateKeyPath
        )
        let serverContext = try pki.serverContext(requestClientCertificates: true)
        let (_, server) = try connectedPair(server: serverContext, client: client)

        #expect(server.recorder.handshakes.isEmpty)
        let error = try #require(server.recorder.tlsErrors.first)
        #expect(error.code == .handshakeFailed)
        #expect(error.description.contains("certificate verify failed"), "\(error)")
        #expect(server.recorder.errors.count == 1)
    }

    @Test(arguments: ["localhost", "127.0.0.1", "::1"])
    func theServerCertificateVerifiesForItsNames(hostname: String) throws {
        let pki = try TLSTestPKI()
        let (client, _) = try connectedPair(
            server: try pki.serverContext(),
            client: try pki.clientContext(),
            serverHostname: hostname
        )
        #expect(client.recorder.errors.isEmpty, "\(client.recorder.errors)")
        #expect(client.recorder.handshakes.count == 1)
    }

    @Test func aServerCertificateForAnotherNameIsRefused() throws {
        let pki = try TLSTestPKI()
        let (client, server) = try connectedPair(
            server: try pki.serverContext(),
            client: try pki.clientContext(),
            serverHostname: "chat.example.com"
        )
        let error = try #require(client.recorder.tlsErrors.first)
        #expect(error.code == .handshakeFailed)
        #expect(error.description.contains("hostname mismatch"), "\(error)")
        #expect(client.recorder.handshakes.isEmpty)
        #expect(server.recorder.handshakes.isEmpty)
    }

    @Test func aServerFromAnUntrustedCAIsRefused() throws {
        let pki = try TLSTestPKI()
        let other = try TLSTestPKI()
        let (client, server) = try connectedPair(server: try pki.serverContext(), client: try other.clientContext())
        let error = try #require(client.recorder.tlsErrors.first)
        #expect(error.description.contains("certificate verify failed"), "\(error)")
        #expect(client.recorder.errors.count == 1)
        #expect(server.recorder.errors.count == 1, "the server learns of it from the alert")
    }

    @Test(arguments: [TLSProtocolVersion.tlsv1_3, .tlsv1_2])
    func aSecondConnectionResumesTheSession(version: TLSProtocolVersion) throws {
        let pki = try TLSTestPKI()
        let serverContext = try pki.serverContext(requestClientCertificates: true)
        let clientContext = try pki.clientContext(maximumVersion: version)
        let (firstClient, firstServer) = try connectedPair(server: serverContext, client: clientContext)
        #expect(firstServer.recorder.handshakes.first?.sessionReused == false)
        let session = try #require(firstClient.handler.resumableSession)

        let (client, server) = try connectedPair(server: serverContext, client: clientContext, session: session)

        #expect(client.recorder.handshakes.first?.sessionReused == true)
        #expect(server.recorder.handshakes.first?.sessionReused == true)
        client.send("resumed\n")
        try interact(client, server)
        #expect(server.receivedText == "resumed\n")
    }

    /// TLS 1.2 tickets would be sealed with OpenSSL's per-context key, never rotated: the server sends none,
    /// and 1.2 resumes by session ID from its cache. TLS 1.3 still gets a (stateful) ticket and resumes.
    @Test(arguments: [TLSProtocolVersion.tlsv1_2, .tlsv1_3])
    func resumptionWorksWithoutTLS12Tickets(version: TLSProtocolVersion) throws {
        let pki = try TLSTestPKI()
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext(maximumVersion: version)
        let (firstClient, _) = try connectedPair(server: serverContext, client: clientContext)
        let session = try #require(firstClient.handler.resumableSession)
        #expect(session.hasTicket == (version == .tlsv1_3), "TLS 1.2 gets no ticket; TLS 1.3 a stateful one")

        let (client, server) = try connectedPair(server: serverContext, client: clientContext, session: session)

        #expect(client.recorder.handshakes.first?.sessionReused == true)
        #expect(server.recorder.handshakes.first?.sessionReused == true)
        #expect(server.recorder.handshakes.first?.protocolVersion == (version == .tlsv1_2 ? "TLSv1.2" : "TLSv1.3"))
    }

    @Test func aHandlerRefusesAContextOfTheOtherRole() throws {
        let pki = try TLSTestPKI()
        #expect(throws: TLSError.self) {
            _ = try OpenSSLHandler(context: try pki.clientContext(), mode: .server)
        }
        #expect(throws: TLSError.self) {
            _ = try OpenSSLHandler(context: try pki.serverContext(), mode: .client(serverHostname: nil))
        }
    }
}
