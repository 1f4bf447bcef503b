import COpenSSL
import Foundation
import Testing

@testable import SecureChat

/// Issue 11, point 5: key files are never followed through links nor left half-written, a broken key stops
/// the server with its path, the development CA can sign for loopback names only, and the server
/// certificate lives at most a year and is renewed before it runs out.
@Suite("TLS development certificates: safety")
struct TLSDevelopmentCertificateSafetyTests {
    /// The first certificate of a PEM file, read with OpenSSL (owned: `X509_free`).
    private func certificate(at path: String) throws -> OpaquePointer {
        let bio = try #require(BIO_new_file(path, "r"))
        defer { BIO_free(bio) }
        return try #require(PEM_read_bio_X509(bio, nil, nil, nil))
    }

    /// OpenSSL's own text for one extension of `certificate`, and whether it is critical.
    private func extensionText(_ certificate: OpaquePointer, nid: CInt) throws -> (text: String, critical: Bool) {
        let index = X509_get_ext_by_NID(certificate, nid, -1)
        try #require(index >= 0, "extension \(nid) is missing")
        let ext = try #require(X509_get_ext(certificate, index))
        let bio = try #require(BIO_new(BIO_s_mem()))
        defer { BIO_free(bio) }
        #expect(X509V3_EXT_print(bio, ext, 0, 0) == 1)
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = BIO_read(bio, &bytes, CInt(bytes.count))
        let text = String(decoding: bytes.prefix(max(0, Int(count))), as: UTF8.self)
        return (text, X509_EXTENSION_get_critical(ext) == 1)
    }

    /// Seconds from notBefore to notAfter.
    private func lifetime(_ certificate: OpaquePointer) throws -> Int {
        var days: CInt = 0
        var seconds: CInt = 0
        #expect(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(certificate), X509_get0_notAfter(certificate)) == 1)
        return Int(days) * 86_400 + Int(seconds)
    }

    @Test(arguments: ["server.key", "ca.key"])
    func aSymbolicLinkWhereAKeyBelongsIsRefusedAndNotFollowed(name: String) throws {
        let directory = try TLSTemporaryDirectory()
        let target = directory.file("elsewhere")
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: directory.file(name), withDestinationPath: target)

        let error = try #require(throws: TLSError.self) {
            _ = try DevelopmentCertificates.ensure(directory: directory.path)
        }
        #expect(error.path == directory.file(name))
        #expect(error.reason.contains("symbolic link"), "\(error)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n", "the link was not written through")
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: directory.file(name))
        #expect(link == target, "the link itself is left alone")
    }

    @Test func aTruncatedKeyStopsStartWithItsPathAndTheReason() throws {
        let directory = try TLSTemporaryDirectory()
        let set = try DevelopmentCertificates.ensure(directory: directory.path)
        let key = try Data(contentsOf: URL(fileURLWithPath: set.privateKeyPath))
        try key.prefix(key.count / 2).write(to: URL(fileURLWithPath: set.privateKeyPath))

        let error = try #require(throws: TLSError.self) {
            _ = try DevelopmentCertificates.ensure(directory: directory.path)
        }
        #expect(error.code == .invalidPrivateKey)
        #expect(error.path == set.privateKeyPath)
        #expect(error.description.contains(set.privateKeyPath) && error.reason.contains("PEM"), "\(error)")
    }

    @Test func keysAreWrittenWholeWithMode0600AndNoTemporaryFileIsLeft() throws {
        let directory = try TLSTemporaryDirectory()
        let set = try DevelopmentCertificates.ensure(directory: directory.path)
        for key in [set.privateKeyPath, directory.file("ca.key")] {
            let attributes = try FileManager.default.attributesOfItem(atPath: key)
            #expect(attributes[.posixPermissions] as? Int == 0o600)
            #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["ca.crt", "ca.key", "server.crt", "server.key"], "\(names)")
    }

    @Test func theCAHasPathLengthZeroAndLoopbackNameConstraints() throws {
        let directory = try TLSTemporaryDirectory()
        let set = try DevelopmentCertificates.ensure(directory: directory.path)
        let ca = try self.certificate(at: set.caCertificatePath)
        defer { X509_free(ca) }

        #expect(X509_get_pathlen(ca) == 0)
        let constraints = try self.extensionText(ca, nid: NID_name_constraints)
        #expect(constraints.critical)
        let loopbackV6 = "IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF"
        for permitted in ["DNS:localhost", "IP:127.0.0.0/255.0.0.0", loopbackV6] {
            #expect(constraints.text.contains(permitted), "\(constraints.text)")
        }
        #expect(!constraints.text.contains("Excluded"), "\(constraints.text)")
    }

    @Test func aCertificateTheCASignsForAnotherNameDoesNotVerify() throws {
        let directory = try TLSTemporaryDirectory()
        _ = try DevelopmentCertificates.ensure(directory: directory.path)
        let ca = try CertificateAuthority.loadOrCreate(paths: DevelopmentCertificates.Paths(directory: directory.path))
        let forged = try ca.issue(
            commonName: "bank.example",
            keyPath: directory.file("forged.key"),
            certificatePath: directory.file("forged.crt"),
            validity: .days(30),
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"), (NID_ext_key_usage, "serverAuth"),
                (NID_subject_alt_name, "DNS:bank.example"),
            ]
        )
        X509_free(forged)
        let server = try TLSContext.server(
            certificateChainPath: directory.file("forged.crt"), privateKeyPath: directory.file("forged.key")
        )
        let client = try TLSContext.client(trustRootsPath: directory.file("ca.crt"))

        let (peer, _) = try connectedPair(server: server, client: client, serverHostname: "bank.example")

        #expect(peer.recorder.handshakes.isEmpty)
        let error = try #require(peer.recorder.tlsErrors.first)
        #expect(error.description.contains("permitted subtree violation"), "\(error)")
    }

    @Test func clientCertificateChainsAreVerifiedToADepthOfFour() throws {
        let pki = try TLSTestPKI()
        let context = try pki.serverContext(requestClientCertificates: true)
        #expect(SSL_CTX_get_verify_depth(context.sslContext) == 4)
    }

    @Test func theServerCertificateLivesAtMostAYear() throws {
        let directory = try TLSTemporaryDirectory()
        let set = try DevelopmentCertificates.ensure(directory: directory.path)
        let leaf = try self.certificate(at: set.certificatePath)
        defer { X509_free(leaf) }
        #expect(try self.lifetime(leaf) <= 365 * 86_400)
        #expect(try self.lifetime(leaf) > 364 * 86_400)
    }

    @Test func anExpiringServerCertificateIsRenewedAtStartWithTheSameCA() throws {
        let directory = try TLSTemporaryDirectory()
        let old = try DevelopmentCertificates.generate(
            directory: directory.path, clientCertificateNames: [], serverValidity: .days(10)
        )
        let oldCertificate = try Data(contentsOf: URL(fileURLWithPath: old.certificatePath))

        let renewed = try DevelopmentCertificates.ensure(directory: directory.path)

        #expect(renewed.renewed && renewed.created)
        #expect(renewed.caFingerprintSHA256 == old.caFingerprintSHA256)
        #expect(try Data(contentsOf: URL(fileURLWithPath: renewed.certificatePath)) != oldCertificate)
        let leaf = try self.certificate(at: renewed.certificatePath)
        defer { X509_free(leaf) }
        #expect(CertificateValidity.daysLeft(leaf) >= 364)
        // It verifies against the CA clients already trust, and the server takes the pair.
        let server = try TLSContext.server(
            certificateChainPath: renewed.certificatePath, privateKeyPath: renewed.privateKeyPath
        )
        let client = try TLSContext.client(trustRootsPath: old.caCertificatePath)
        let (peer, _) = try connectedPair(server: server, client: client)
        #expect(peer.recorder.errors.isEmpty, "\(peer.recorder.errors)")

        // A certificate with plenty of time left is kept as it is.
        let again = try DevelopmentCertificates.ensure(directory: directory.path)
        #expect(!again.created && !again.renewed)
    }
}
