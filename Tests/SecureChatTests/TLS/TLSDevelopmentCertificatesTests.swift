import Foundation
import Testing

@testable import SecureChat

@Suite("TLS development certificates")
struct TLSDevelopmentCertificatesTests {
    private static let opensslPath = "/usr/bin/openssl"

    private func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    /// Runs the openssl CLI and returns its status and output (stdout and stderr), or nil if it is not installed.
    private func openssl(_ arguments: [String]) async throws -> (status: Int32, output: String)? {
        guard FileManager.default.isExecutableFile(atPath: Self.opensslPath) else {
            return nil
        }
        return try await ProcessRunner.runToEnd(Self.opensslPath, arguments)
    }

    @Test func ensureCreatesACAAndAServerCertificateWithPrivateKeys() throws {
        let directory = try TLSTemporaryDirectory()
        let target = directory.file("certs")
        let set = try DevelopmentCertificates.ensure(directory: target)

        #expect(set.created)
        #expect(set.certificatePath == target + "/server.crt")
        #expect(set.privateKeyPath == target + "/server.key")
        #expect(set.caCertificatePath == target + "/ca.crt")
        for path in [set.certificatePath, set.privateKeyPath, set.caCertificatePath, target + "/ca.key"] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        #expect(try self.mode(of: set.privateKeyPath) == 0o600)
        #expect(try self.mode(of: target + "/ca.key") == 0o600)

        let fingerprint = try #require(set.caFingerprintSHA256)
        #expect(fingerprint == (try DevelopmentCertificates.fingerprintSHA256(ofCertificateAt: set.caCertificatePath)))
        #expect(fingerprint.count == 32 * 3 - 1)
        #expect(fingerprint.allSatisfy { "0123456789ABCDEF:".contains($0) })
    }

    @Test func ensureIsIdempotent() throws {
        let directory = try TLSTemporaryDirectory()
        let first = try DevelopmentCertificates.ensure(directory: directory.path)
        let certificate = try Data(contentsOf: URL(fileURLWithPath: first.certificatePath))
        let key = try Data(contentsOf: URL(fileURLWithPath: first.privateKeyPath))

        let second = try DevelopmentCertificates.ensure(directory: directory.path)

        #expect(!second.created)
        #expect(second.caFingerprintSHA256 == first.caFingerprintSHA256)
        #expect(try Data(contentsOf: URL(fileURLWithPath: second.certificatePath)) == certificate)
        #expect(try Data(contentsOf: URL(fileURLWithPath: second.privateKeyPath)) == key)
    }

    @Test func ensureReusesAnExistingCAForANewServerCertificate() throws {
        let directory = try TLSTemporaryDirectory()
        let first = try DevelopmentCertificates.ensure(directory: directory.path)
        try FileManager.default.removeItem(atPath: first.certificatePath)
        try FileManager.default.removeItem(atPath: first.privateKeyPath)

        let second = try DevelopmentCertificates.ensure(directory: directory.path)

        #expect(second.created)
        #expect(second.caFingerprintSHA256 == first.caFingerprintSHA256)
    }

    @Test func ensureRefusesToOverwriteAHalfPresentPair() throws {
        let directory = try TLSTemporaryDirectory()
        let first = try DevelopmentCertificates.ensure(directory: directory.path)
        try FileManager.default.removeItem(atPath: first.privateKeyPath)

        #expect(throws: TLSError.self) {
            _ = try DevelopmentCertificates.ensure(directory: directory.path)
        }
        #expect(FileManager.default.fileExists(atPath: first.certificatePath))
    }

    @Test func theCreatedServerChainVerifiesAgainstTheCA() throws {
        let directory = try TLSTemporaryDirectory()
        let set = try DevelopmentCertificates.ensure(directory: directory.path)
        let server = try TLSContext.server(
            certificateChainPath: set.certificatePath,
            privateKeyPath: set.privateKeyPath
        )
        let client = try TLSContext.client(trustRootsPath: set.caCertificatePath)

        let (peer, _) = try connectedPair(server: server, client: client, serverHostname: "localhost")

        #expect(peer.recorder.errors.isEmpty, "\(peer.recorder.errors)")
        #expect(peer.handler.handshakeInfo?.protocolVersion == "TLSv1.3")
    }

    @Test func theOpenSSLCommandLineAgrees() async throws {
        let directory = try TLSTemporaryDirectory()
        let set = try DevelopmentCertificates.ensure(directory: directory.path)
        guard let verify = try await self.openssl(["verify", "-CAfile", set.caCertificatePath, set.certificatePath])
        else {
            return
        }
        #expect(verify.status == 0, "\(verify.output)")

        let printed = try #require(
            try await self.openssl(["x509", "-in", set.caCertificatePath, "-noout", "-fingerprint", "-sha256"])
        )
        #expect(printed.output.contains(try #require(set.caFingerprintSHA256)), "\(printed.output)")

        let text = try #require(try await self.openssl(["x509", "-in", set.certificatePath, "-noout", "-text"])).output
        #expect(text.contains("DNS:localhost"))
        #expect(text.contains("IP Address:127.0.0.1"))
        #expect(text.contains("IP Address:0:0:0:0:0:0:0:1"))
        #expect(text.contains("TLS Web Server Authentication"))
        #expect(text.contains("ASN1 OID: prime256v1"))

        let caText = try #require(try await self.openssl(["x509", "-in", set.caCertificatePath, "-noout", "-text"]))
            .output
        #expect(caText.contains("CA:TRUE"))
        #expect(caText.contains("Certificate Sign, CRL Sign"))
    }

    @Test func theShellScriptMakesCertificatesTheServerAccepts() async throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repository.appendingPathComponent("certs/generate.sh").path
        guard FileManager.default.isExecutableFile(atPath: Self.opensslPath),
            FileManager.default.isExecutableFile(atPath: script)
        else {
            return
        }
        let directory = try TLSTemporaryDirectory()
        let generated = try await ProcessRunner.runToEnd(script, [directory.path])
        #expect(generated.status == 0, "\(generated.output)")

        // ensure() takes them as they are.
        let set = try DevelopmentCertificates.ensure(directory: directory.path)
        #expect(!set.created)
        #expect(try self.mode(of: set.privateKeyPath) == 0o600)
        let server = try TLSContext.server(
            certificateChainPath: set.certificatePath,
            privateKeyPath: set.privateKeyPath
        )
        let client = try TLSContext.client(trustRootsPath: set.caCertificatePath)
        let (peer, _) = try connectedPair(server: server, client: client, serverHostname: "::1")
        #expect(peer.recorder.errors.isEmpty, "\(peer.recorder.errors)")
        #expect(peer.recorder.handshakes.count == 1)
    }

    @Test func generatedClientCertificatesAreSignedByTheCA() async throws {
        let directory = try TLSTemporaryDirectory()
        let set = try DevelopmentCertificates.generate(
            directory: directory.path,
            clientCertificateNames: ["bob", "eve"]
        )
        #expect(set.clientCertificates.map(\.name) == ["bob", "eve"])
        let bob = set.clientCertificates[0]
        #expect(try self.mode(of: bob.privateKeyPath) == 0o600)
        #expect(bob.fingerprintSHA256 != set.clientCertificates[1].fingerprintSHA256)
        if let verify = try await self.openssl(["verify", "-CAfile", set.caCertificatePath, bob.certificatePath]) {
            #expect(verify.status == 0, "\(verify.output)")
        }
    }

    @Test func unsafeClientNamesAreRefused() throws {
        let directory = try TLSTemporaryDirectory()
        #expect(throws: TLSError.self) {
            _ = try DevelopmentCertificates.generate(directory: directory.path, clientCertificateNames: ["../escape"])
        }
    }

    @Test func fingerprintsNormalize() {
        #expect(DevelopmentCertificates.normalizedFingerprint("AB:cd:01") == "abcd01")
        #expect(DevelopmentCertificates.normalizedFingerprint("sha256 Fingerprint=AB:CD") == "abcd")
    }
}
