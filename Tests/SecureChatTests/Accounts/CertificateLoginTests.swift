import Foundation
import Testing

@testable import SecureChat

/// Certificate log-in: `--client-certs any` (self-signed accepted) beside `--client-ca`, `/register cert`,
/// `/cert add|list|del`, and the log-in without a prompt.
@Suite("Accounts: certificate log-in", .timeLimit(.minutes(2)))
struct CertificateLoginTests {
    /// A self-signed client certificate made by `openssl req` (no CA anywhere), in `directory`.
    static func selfSigned(_ name: String, in directory: String) async throws -> DevelopmentClientCertificate {
        let certificate = directory + "/\(name)-self.crt"
        let key = directory + "/\(name)-self.key"
        let result = try await ProcessRunner.runToEnd(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", certificate, "-subj", "/CN=\(name)", "-days", "2",
            ])
        try #require(result.status == 0, "\(result.output)")
        return DevelopmentClientCertificate(
            name: name, certificatePath: certificate, privateKeyPath: key,
            fingerprintSHA256: CertificateFingerprint.normalize(
                try DevelopmentCertificates.fingerprintSHA256(ofCertificateAt: certificate)))
    }

    static func connect(_ server: TestServer, with certificate: DevelopmentClientCertificate?) async throws
        -> TestClient
    {
        let client = try await TestClient.connect(
            port: server.tlsPort, tls: TestClient.TLS(clientCertificate: certificate))
        server.track(client)
        _ = try await client.readUntil { $0 == Accounts.prompt }
        return client
    }

    static func answer(_ client: TestClient, _ command: String) async throws -> String? {
        try await AccountCommandTests.answer(client, command)
    }

    @Test("--client-certs any: /register cert with a self-signed certificate, then it logs in without a prompt")
    func registerCertificate() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = try await Self.selfSigned("bob", in: directory)
        try await Accounts.withServer([]) {
            $0.anyClientCertificate = true
        } _: { server, _ in
            let bob = try await Self.connect(server, with: certificate)
            try await bob.answerPrompt("bob")
            #expect(
                try await Self.answer(bob, "/register cert")
                    == "* bob is now registered to you: this client certificate logs you in to it.")
            await bob.close()

            let again = try await Self.connect(server, with: certificate)
            again.send("BOB")
            #expect(
                try await again.readLine()
                    == "* Welcome back, bob (certificate). You are in #lobby with 0 others. Type /help for commands.")
            again.send("/whois bob")
            let whois = try await again.readUntil { $0.hasPrefix("* bob") }
            #expect(whois.contains("client certificate SHA-256 \(certificate.fingerprintSHA256)"))
            #expect(whois.hasSuffix("; registered, logged in with a client certificate."))
            #expect(
                try await Self.answer(again, "/cert del \(certificate.fingerprintSHA256)")
                    == "! That is the only way to log in to this account; add a password or another certificate first.")

            // Without the certificate the name is refused: the account has no password.
            let other = try await Self.connect(server, with: nil)
            other.send("bob")
            #expect(
                try await other.readLine()
                    == "! bob is registered and has no password to log in with; choose another name.")
        }
    }

    @Test("/cert add binds the connection's certificate; /cert list and /cert del; taken certificates are refused")
    func certificateCommands() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let aliceCertificate = try await Self.selfSigned("alice", in: directory)
        try await Accounts.withServer([AccountCommandTests.alice, (name: "carol", password: "carol's long password")]) {
            $0.anyClientCertificate = true
        } _: { server, _ in
            let alice = try await Self.connect(server, with: aliceCertificate)
            alice.send("alice")
            _ = try await alice.readLine()
            alice.send("alice's long password")
            _ = try await alice.readUntil { $0.hasPrefix("* Welcome back, alice!") }
            let fingerprint = aliceCertificate.fingerprintSHA256
            #expect(
                try await Self.answer(alice, "/cert add") == "* Certificate SHA-256 \(fingerprint) now logs you in.")
            #expect(try await Self.answer(alice, "/cert list") == "* 1 certificate logs you in:")
            #expect(try await alice.readLine() == "*   SHA-256 \(fingerprint)")

            // The certificate logs in without a prompt, and takes the name over from the older connection.
            let second = try await Self.connect(server, with: aliceCertificate)
            second.send("alice")
            #expect(try await second.readLine()?.hasPrefix("* Welcome back, alice (certificate).") == true)
            #expect(try await alice.readToEnd().last == "! You logged in from another connection.")

            // Carol cannot bind alice's certificate.
            let carol = try await Self.connect(server, with: aliceCertificate)
            carol.send("carol")
            _ = try await carol.readLine()
            carol.send("carol's long password")
            _ = try await carol.readUntil { $0.hasPrefix("* Welcome back, carol!") }
            #expect(try await Self.answer(carol, "/cert add") == "! That certificate already logs in to an account.")

            #expect(
                try await Self.answer(second, "/cert del \(fingerprint.uppercased())")
                    == "* Certificate SHA-256 \(fingerprint) no longer logs you in.")
            #expect(
                try await Self.answer(second, "/cert del \(fingerprint)")
                    == "! No certificate with that fingerprint logs you in (see /cert list).")
            let third = try await Self.connect(server, with: aliceCertificate)
            third.send("alice")
            #expect(try await third.readLine() == Accounts.passwordPrompt("alice"))
        }
    }

    @Test("with --client-ca, a CA-signed certificate bound to an account logs in the same way")
    func verifiedCertificate() async throws {
        let certificate = TestCertificates.client("bob")
        try await Accounts.withServer([]) {
            $0.clientCAPath = TestCertificates.set.caCertificatePath
        } _: { server, _ in
            let bob = try await Self.connect(server, with: certificate)
            try await bob.answerPrompt("bob")
            #expect(try await Self.answer(bob, "/register cert")?.hasPrefix("* bob is now registered") == true)
            await bob.close()
            let again = try await Self.connect(server, with: certificate)
            again.send("bob")
            #expect(try await again.readLine()?.hasPrefix("* Welcome back, bob (certificate).") == true)
        }
    }

    @Test("without --client-certs any, a self-signed certificate is not what a connection is known by")
    func selfSignedNeedsAnyMode() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = try await Self.selfSigned("dave", in: directory)
        try await Accounts.withServer([]) { server, _ in
            let dave = try await Self.connect(server, with: certificate)
            try await dave.answerPrompt("dave")
            #expect(
                try await Self.answer(dave, "/register cert")
                    == "! Your connection has no client certificate; connect with one to bind it.")
        }
    }

    @Test("--client-certs any and --client-ca together are refused")
    func oneMode() {
        var configuration = Configuration()
        configuration.anyClientCertificate = true
        configuration.clientCAPath = "/tmp/ca.crt"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
