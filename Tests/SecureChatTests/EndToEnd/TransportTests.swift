import SecureChat
import Testing

@Suite("Plaintext and TLS clients share one hub")
struct TransportTests {
    @Test("a TLS client and a plaintext client chat, share history and DM across transports")
    func mixedTransports() async throws {
        try await withTestServer { server in
            let plain = try await TestClient.loggedIn("plain", port: server.port)
            plain.send("said over plaintext")
            _ = try await plain.sync()

            let secure = try await TestClient.connect(port: server.tlsPort, tls: .plain)
            let greeting = try await secure.collectUntil { $0.hasPrefix("* Choose a username") }
            #expect(greeting.contains { $0.hasPrefix("* Your connection is encrypted: TLSv1.3, ") })
            secure.send("secure")
            let welcome = try await secure.collectUntil { $0 == "* End of history." }
            #expect(welcome.contains { $0.hasSuffix("] plain: said over plaintext") })

            secure.send("hello from TLS")
            try await plain.readUntil { $0 == "plain: said over plaintext" || $0 == "secure: hello from TLS" }
            plain.send("/msg secure over the wire in clear")
            #expect(try await secure.readUntil { $0.hasPrefix("[dm]") } == "[dm] plain: over the wire in clear")
            secure.send("/msg plain back")
            #expect(try await plain.readUntil { $0.hasPrefix("[dm]") } == "[dm] secure: back")

            plain.send("/users")
            #expect(
                try await plain.readUntil { $0.hasPrefix("* 2 users") }
                    == "* 2 users in #lobby: plain [op] [plaintext], secure")
            secure.send("/whois plain")
            let whois = try await secure.readUntil { $0.hasPrefix("* plain") }
            #expect(whois.contains("over plaintext"))
            await plain.close()
            await secure.close()
        }
    }

    @Test("a verified client certificate's fingerprint shows in /whois")
    func clientCertificate() async throws {
        try await withTestServer({ $0.clientCAPath = TestCertificates.set.caCertificatePath }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.tlsPort, tls: .withCertificate("alice"))
            alice.send("/whois alice")
            let line = try await alice.readUntil { $0.hasPrefix("* alice") }
            #expect(line.contains("client certificate SHA-256 \(TestCertificates.client("alice").fingerprintSHA256)"))
            await alice.close()
        }
    }

    @Test("a TLS ClientHello on the plaintext port gets a plain-words answer naming the TLS port")
    func tlsOnPlaintextPort() async throws {
        try await withTestServer { server in
            let confused = try await TestClient.connect(port: server.port)
            _ = try await confused.collectUntil { $0.hasPrefix("* Choose a username") }
            confused.sendRaw([0x16, 0x03, 0x01, 0x00, 0xF4, 0x01, 0x00, 0x00, 0xF0, 0x03, 0x03])
            let rest = try await confused.readToEnd()
            #expect(
                rest.contains {
                    $0.hasPrefix("! This is SecureChat's plaintext port") && $0.contains("\(server.tlsPort)")
                })
            // The server still serves others.
            let other = try await TestClient.loggedIn("other", port: server.port)
            await other.close()
        }
    }
}
