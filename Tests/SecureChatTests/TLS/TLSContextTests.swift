import Foundation
import Testing

@testable import SecureChat

@Suite("TLS context: loading certificates and keys, reloading")
struct TLSContextTests {
    /// Runs `body`, which must throw a TLSError, and returns it.
    private func tlsError(_ body: () throws -> Void) throws -> TLSError {
        do {
            try body()
        } catch let error as TLSError {
            return error
        }
        Issue.record("expected a TLSError")
        throw TLSTestError.noProgressLimit
    }

    @Test func aMissingCertificateFileIsNamed() throws {
        let pki = try TLSTestPKI()
        let missing = pki.directory.file("nope.crt")
        let error = try self.tlsError {
            _ = try TLSContext.server(certificateChainPath: missing, privateKeyPath: pki.certificates.privateKeyPath)
        }
        #expect(error.code == .fileUnreadable)
        #expect(error.description.contains(missing))
        #expect(error.description.contains("No such file"), "\(error)")
    }

    @Test func aMissingKeyFileIsNamed() throws {
        let pki = try TLSTestPKI()
        let missing = pki.directory.file("nope.key")
        let error = try self.tlsError {
            _ = try TLSContext.server(certificateChainPath: pki.certificates.certificatePath, privateKeyPath: missing)
        }
        #expect(error.code == .fileUnreadable)
        #expect(error.path == missing)
    }

    @Test func garbageInsteadOfACertificateGivesOpenSSLsReason() throws {
        let pki = try TLSTestPKI()
        let garbage = pki.directory.file("garbage.crt")
        try Data("this is not PEM\n".utf8).write(to: URL(fileURLWithPath: garbage))
        let error = try self.tlsError {
            _ = try TLSContext.server(certificateChainPath: garbage, privateKeyPath: pki.certificates.privateKeyPath)
        }
        #expect(error.code == .invalidCertificate)
        #expect(error.description.contains(garbage))
        #expect(error.description.contains("no start line"), "\(error)")
    }

    @Test func garbageInsteadOfAKeyIsNamed() throws {
        let pki = try TLSTestPKI()
        let garbage = pki.directory.file("garbage.key")
        try Data("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)
            .write(to: URL(fileURLWithPath: garbage))
        let error = try self.tlsError {
            _ = try TLSContext.server(certificateChainPath: pki.certificates.certificatePath, privateKeyPath: garbage)
        }
        #expect(error.code == .invalidPrivateKey)
        #expect(error.description.contains(garbage))
        #expect(error.description.contains("error:"), "carries OpenSSL's reason: \(error)")
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsRefused() throws {
        let pki = try TLSTestPKI()
        let other = try TLSTestPKI()
        let error = try self.tlsError {
            _ = try TLSContext.server(
                certificateChainPath: pki.certificates.certificatePath,
                privateKeyPath: other.certificates.privateKeyPath
            )
        }
        #expect(error.code == .privateKeyMismatch)
        #expect(error.description.contains(other.certificates.privateKeyPath))
        #expect(error.description.contains("key values mismatch"), "\(error)")
    }

    @Test func anExpiredCertificateIsRefused() throws {
        let directory = try TLSTemporaryDirectory()
        let expired = try DevelopmentCertificates.generate(
            directory: directory.path,
            clientCertificateNames: [],
            serverValidity: X509Builder.Validity(notBeforeOffset: -10 * 86_400, notAfterOffset: -86_400)
        )
        let error = try self.tlsError {
            _ = try TLSContext.server(
                certificateChainPath: expired.certificatePath,
                privateKeyPath: expired.privateKeyPath
            )
        }
        #expect(error.code == .certificateExpired)
        #expect(error.description.contains(expired.certificatePath))
        #expect(error.description.contains("GMT"), "says when: \(error)")
    }

    @Test func aClientCertificateNeedsItsKey() throws {
        let pki = try TLSTestPKI()
        let error = try self.tlsError {
            _ = try TLSContext.client(trustRootsPath: nil, certificateChainPath: pki.certificates.certificatePath)
        }
        #expect(error.code == .configurationFailed)
    }

    @Test func reloadKeepsTheOldContextWhenTheNewFilesAreBad() throws {
        let pki = try TLSTestPKI()
        let store = try TLSContextStore(
            certificateChainPath: pki.certificates.certificatePath,
            privateKeyPath: pki.certificates.privateKeyPath
        )
        let original = store.current
        let missing = pki.directory.file("missing.crt")

        #expect(throws: TLSError.self) {
            try store.reload(certificateChainPath: missing, privateKeyPath: pki.certificates.privateKeyPath)
        }
        #expect(store.current === original)

        let other = try TLSTestPKI()
        try store.reload(
            certificateChainPath: other.certificates.certificatePath,
            privateKeyPath: other.certificates.privateKeyPath
        )
        #expect(store.current !== original)

        // New connections get the new certificate: a client trusting only the new CA connects.
        let (client, _) = try connectedPair(server: store.current, client: try other.clientContext())
        #expect(client.recorder.handshakes.count == 1)
    }

    @Test func errorDescriptionsReadWell() {
        let error = TLSError.fileUnreadable(path: "/etc/x.crt", reason: "No such file or directory")
        #expect(error.description == "file unreadable (/etc/x.crt): No such file or directory")
    }
}
