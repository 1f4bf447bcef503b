import Foundation
import SecureChat
import Testing

/// How a reload's files can be bad.
enum BrokenCertificateFiles: String, CaseIterable, Sendable, CustomStringConvertible {
    case garbageCertificate = "the certificate file holds garbage"
    case truncatedCertificate = "the certificate file is cut short"
    case missingKey = "the key file is gone"
    case keyOfAnotherCertificate = "the key belongs to another certificate"

    var description: String { rawValue }
}

/// SIGHUP reload (`ChatServer.reloadCertificates()`, what the daemon's SIGHUP handler calls) over real sockets.
@Suite("TLS certificate reload on a running server", .timeLimit(.minutes(2)))
struct CertificateReloadTests {
    /// The files the server is configured with: a copy of the shared test certificate, so tests can replace them.
    struct LiveFiles {
        let directory: TLSTemporaryDirectory
        var certificate: String { directory.file("live.crt") }
        var key: String { directory.file("live.key") }

        init() throws {
            directory = try TLSTemporaryDirectory()
            try FileManager.default.copyItem(atPath: TestCertificates.set.certificatePath, toPath: certificate)
            try FileManager.default.copyItem(atPath: TestCertificates.set.privateKeyPath, toPath: key)
        }

        func replace(with set: DevelopmentCertificateSet) throws {
            try Data(contentsOf: URL(fileURLWithPath: set.certificatePath)).write(to: URL(fileURLWithPath: certificate))
            try Data(contentsOf: URL(fileURLWithPath: set.privateKeyPath)).write(to: URL(fileURLWithPath: key))
        }
    }

    static func leafFingerprint(_ path: String) throws -> String {
        DevelopmentCertificates.normalizedFingerprint(
            try DevelopmentCertificates.fingerprintSHA256(ofCertificateAt: path))
    }

    @Test("after a reload new connections get the new certificate; an open connection stays up and chats")
    func reloadServesTheNewCertificateToNewConnectionsOnly() async throws {
        let live = try LiveFiles()
        let newDirectory = try TLSTemporaryDirectory()
        let newSet = try DevelopmentCertificates.generate(directory: newDirectory.path)
        let oldFingerprint = try Self.leafFingerprint(TestCertificates.set.certificatePath)
        let newFingerprint = try Self.leafFingerprint(newSet.certificatePath)
        #expect(oldFingerprint != newFingerprint)

        try await withTestServer({
            $0.certificatePath = live.certificate
            $0.privateKeyPath = live.key
        }) { server in
            let oldCA = try TLSProbe.trusting(TestCertificates.set.caCertificatePath)
            let newCA = try TLSProbe.trusting(newSet.caCertificatePath)
            let before = try await TLSProbe.handshake(port: server.tlsPort, context: oldCA).get()
            #expect(before.peerCertificateFingerprint == oldFingerprint)

            let veteran = try await TestClient.loggedIn("veteran", port: server.tlsPort, tls: .plain)
            try live.replace(with: newSet)
            try server.server.reloadCertificates()

            // New connections: the new certificate, which verifies against the new CA only.
            let after = try await TLSProbe.handshake(port: server.tlsPort, context: newCA).get()
            #expect(after.peerCertificateFingerprint == newFingerprint)
            let oldTrust = try await TLSProbe.handshake(port: server.tlsPort, context: oldCA)
            #expect(throws: TLSError.self) { try oldTrust.get() }

            // The connection made before the reload carries on, both ways.
            let newcomer = try await TestClient.loggedIn("newcomer", port: server.port)
            try await veteran.readUntil { $0 == "* newcomer joined #lobby" }
            veteran.send("still here after the reload")
            try await newcomer.readUntil { $0 == "veteran: still here after the reload" }
            newcomer.send("welcome back")
            try await veteran.readUntil { $0 == "newcomer: welcome back" }
            await veteran.close()
            await newcomer.close()
        }
    }

    @Test(
        "a reload from bad files throws naming the file; new connections keep the previous certificate",
        arguments: BrokenCertificateFiles.allCases)
    func badReloadKeepsThePreviousCertificate(broken: BrokenCertificateFiles) async throws {
        let live = try LiveFiles()
        let otherDirectory = try TLSTemporaryDirectory()
        let oldFingerprint = try Self.leafFingerprint(TestCertificates.set.certificatePath)

        try await withTestServer({
            $0.certificatePath = live.certificate
            $0.privateKeyPath = live.key
        }) { server in
            let veteran = try await TestClient.loggedIn("veteran", port: server.tlsPort, tls: .plain)
            let namedFile: String
            switch broken {
            case .garbageCertificate:
                try Data("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n".utf8)
                    .write(to: URL(fileURLWithPath: live.certificate))
                namedFile = live.certificate
            case .truncatedCertificate:
                let whole = try Data(contentsOf: URL(fileURLWithPath: live.certificate))
                try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: live.certificate))
                namedFile = live.certificate
            case .missingKey:
                try FileManager.default.removeItem(atPath: live.key)
                namedFile = live.key
            case .keyOfAnotherCertificate:
                let other = try DevelopmentCertificates.generate(directory: otherDirectory.path)
                try Data(contentsOf: URL(fileURLWithPath: other.privateKeyPath)).write(
                    to: URL(fileURLWithPath: live.key))
                namedFile = live.key
            }

            let error = try #require(throws: TLSError.self) { try server.server.reloadCertificates() }
            #expect(error.path == namedFile, "\(error)")
            #expect(String(describing: error).contains(namedFile), "\(error)")
            #expect(!error.reason.isEmpty, "\(error)")

            // New connections still get the certificate that was loaded before.
            let probe = try await TLSProbe.handshake(
                port: server.tlsPort, context: try TLSProbe.trusting(TestCertificates.set.caCertificatePath)
            )
            #expect(try probe.get().peerCertificateFingerprint == oldFingerprint)
            let newcomer = try await TestClient.loggedIn("newcomer", port: server.tlsPort, tls: .plain)
            try await veteran.readUntil { $0 == "* newcomer joined #lobby" }
            newcomer.send("hello veteran")
            try await veteran.readUntil { $0 == "newcomer: hello veteran" }
            await veteran.close()
            await newcomer.close()
        }
    }
}
