import COpenSSL
import Foundation
import Testing

@testable import SecureChat

/// With client certificates, OpenSSL keeps each client's whole chain in its cached session: chains are bounded
/// in bytes and in certificates, and the cache in bytes as well as in sessions (issue 24, point 6).
@Suite("TLS session cache: bounded client chains, a cache bounded by bytes")
struct TLSSessionCacheBoundsTests {
    private func clientContext(_ pki: TLSTestPKI, chainPath: String) throws -> TLSContext {
        try TLSContext.client(
            trustRootsPath: pki.certificates.caCertificatePath,
            certificateChainPath: chainPath,
            privateKeyPath: pki.certificates.clientCertificates[0].privateKeyPath
        )
    }

    private func text(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func theCacheIsSizedSoItsSessionsFitTheByteBudget() throws {
        let pki = try TLSTestPKI(clientCertificateNames: ["alice"])
        let withClientCertificates = try pki.serverContext(requestClientCertificates: true)
        #expect(withClientCertificates.maximumCertificateListBytes == 16 * 1024)
        let sessions = withClientCertificates.sessionCacheSize
        let perSession =
            TLSContext.sessionOverheadBytes + TLSContext.maximumCertificateListBytes
            * TLSContext.parsedCertificateFactor + TLSContext.maximumClientChainCertificates
            * TLSContext.parsedCertificateOverheadBytes
        #expect(sessions > 0)
        #expect(sessions * perSession <= TLSContext.sessionCacheBytes, "\(sessions) sessions of \(perSession) bytes")
        let plain = try pki.serverContext()
        #expect(plain.sessionCacheSize == TLSContext.maximumCachedSessions)
        #expect(plain.sessionCacheSize * TLSContext.sessionOverheadBytes <= TLSContext.sessionCacheBytes)
    }

    @Test func aChainOfMoreCertificatesThanAPathNeedsIsRefused() throws {
        let pki = try TLSTestPKI(clientCertificateNames: ["alice"])
        let server = try pki.serverContext(requestClientCertificates: true)
        let alice = pki.certificates.clientCertificates[0]
        // Leaf and ten copies of the CA: under 16 KiB, but no path needs more than six certificates.
        let padded = pki.directory.file("padded.crt")
        let copies = String(repeating: try text(pki.certificates.caCertificatePath), count: 10)
        try (try text(alice.certificatePath) + copies).write(toFile: padded, atomically: true, encoding: .utf8)
        #expect(try Data(contentsOf: URL(fileURLWithPath: padded)).count < 16 * 1024 * 2)

        let (_, refused) = try connectedPair(server: server, client: try clientContext(pki, chainPath: padded))
        #expect(refused.recorder.handshakes.isEmpty, "a padded chain is refused")
        #expect(refused.recorder.tlsErrors.count == 1, "\(refused.recorder.errors)")
        #expect(server.cachedSessions == 0)

        let (_, admitted) = try connectedPair(
            server: server, client: try clientContext(pki, chainPath: alice.certificatePath)
        )
        #expect(admitted.recorder.handshakes.first?.peerCertificateFingerprint == alice.fingerprintSHA256)
    }

    @Test func aCertificateMessageOver16KiBIsRefused() throws {
        let pki = try TLSTestPKI(clientCertificateNames: ["alice"])
        let server = try pki.serverContext(requestClientCertificates: true)
        // One certificate, signed by the test CA and valid, carrying a 20 KB comment.
        let ca = try CertificateAuthority.loadOrCreate(
            paths: DevelopmentCertificates.Paths(directory: pki.directory.path))
        let bigCertificate = pki.directory.file("big.crt")
        let bigKey = pki.directory.file("big.key")
        let certificate = try ca.issue(
            commonName: "big",
            keyPath: bigKey,
            certificatePath: bigCertificate,
            validity: .days(30),
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_ext_key_usage, "clientAuth"),
                (NID_netscape_comment, String(repeating: "x", count: 20_000)),
            ]
        )
        X509_free(certificate)
        let client = try TLSContext.client(
            trustRootsPath: pki.certificates.caCertificatePath,
            certificateChainPath: bigCertificate,
            privateKeyPath: bigKey
        )
        let (_, refused) = try connectedPair(server: server, client: client)
        #expect(refused.recorder.handshakes.isEmpty, "a certificate message over the limit is refused")
        let error = try #require(refused.recorder.tlsErrors.first)
        #expect(error.description.contains("excessive message size"), "\(error)")
    }
}
