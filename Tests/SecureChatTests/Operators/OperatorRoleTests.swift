import Testing

@testable import SecureChat

/// Who is an operator: the first client (and its successors), or the holders of configured client certificates.
@Suite("Operators: who holds the role", .timeLimit(.minutes(2)))
struct OperatorRoleTests {
    @Test("the first client to log in is operator; /users and /whois mark it; the second is not")
    func firstClientIsOperator() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            #expect(try await alice.readLine() == "* You are an operator.")
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            #expect(try await bob.sync().filter { $0.contains("operator") } == [])

            bob.send("/users")
            #expect(try await bob.readLine() == "* 2 users in #lobby: alice [op] [plaintext], bob [plaintext]")
            bob.send("/users all")
            #expect(
                try await bob.readLine() == "* 2 users online: alice #lobby [op] [plaintext], bob #lobby [plaintext]")
            bob.send("/whois alice")
            let whoisAlice = try #require(try await bob.readLine())
            #expect(whoisAlice.hasPrefix("* alice (operator): in #lobby, connected since "))
            bob.send("/whois bob")
            let whoisBob = try #require(try await bob.readLine())
            #expect(whoisBob.hasPrefix("* bob: in #lobby, connected since "))
            #expect(!whoisBob.contains("operator"))

            #expect(
                await server.hub.users(seenBy: ConnectionID(1), all: true).filter(\.isOperator).map(\.name) == ["alice"]
            )
            await alice.close()
            await bob.close()
        }
    }

    @Test("when the operator leaves, the longest-connected remaining user gets the role, announced to everyone")
    func succession() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let carol = try await TestClient.loggedIn("carol", port: server.port)
            let dave = try await TestClient.loggedIn("dave", port: server.port)
            // Carol is in another room: the announcement reaches everyone, not just alice's room.
            carol.send("/join #dev")
            try await carol.readUntil { $0.hasPrefix("* You joined #dev") }
            for client in [alice, bob, carol, dave] { _ = try await client.sync() }

            alice.send("/quit")
            for client in [bob, carol, dave] {
                try await client.readUntil { $0 == "* bob is now the operator (alice left)." }
            }
            bob.send("/bans")
            #expect(try await bob.readLine() == "* 0 bans.")
            dave.send("/bans")
            #expect(try await dave.readLine() == "! That command is for operators only.")
            dave.send("/users")
            #expect(try await dave.readLine() == "* 2 users in #lobby: bob [op] [plaintext], dave [plaintext]")

            // The one who comes back is a newcomer: not operator again.
            let alice2 = try await TestClient.loggedIn("alice", port: server.port)
            #expect(try await alice2.sync().filter { $0.contains("You are an operator") } == [])

            // Next in line is carol (logged in before dave and the returning alice).
            await bob.close()
            for client in [carol, dave, alice2] {
                try await client.readUntil { $0 == "* carol is now the operator (bob left)." }
            }
            carol.send("/whois carol")
            #expect(try await carol.readLine()?.hasPrefix("* carol (operator): in #dev") == true)
            #expect(
                await server.hub.users(seenBy: ConnectionID(4), all: true).filter(\.isOperator).map(\.name) == ["carol"]
            )
            for client in [carol, dave, alice2] { await client.close() }
        }
    }

    @Test("with everyone gone, the next user to log in is operator again")
    func emptyServerStartsOver() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            #expect(try await alice.readLine() == "* You are an operator.")
            await alice.close()
            try await eventually("alice gone") { await server.hub.onlineCount == 0 }
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            #expect(try await bob.readLine() == "* You are an operator.")
            await bob.close()
        }
    }

    @Test(
        "configured fingerprints replace the first-client rule",
        arguments: [false, true]
    )
    func configuredFingerprints(colonForm: Bool) async throws {
        let fingerprint = TestCertificates.client("alice").fingerprintSHA256
        try await withTestServer({
            // As `openssl x509 -fingerprint` prints it, or as lowercase hex: both name the same certificate.
            $0.operatorFingerprints = [colonForm ? fingerprint : CertificateFingerprint.normalize(fingerprint)]
            $0.clientCAPath = TestCertificates.set.caCertificatePath
        }) { server in
            // First to log in, but over plaintext: not an operator.
            let first = try await TestClient.loggedIn("first", port: server.port)
            #expect(try await first.sync().filter { $0.contains("operator") } == [])
            // bob has a verified certificate, but not a configured one.
            let bob = try await TestClient.loggedIn("bob", port: server.tlsPort, tls: .withCertificate("bob"))
            #expect(try await bob.sync().filter { $0.contains("operator") } == [])
            // alice's certificate is configured: operator, though third to arrive.
            let alice = try await TestClient.loggedIn("alice", port: server.tlsPort, tls: .withCertificate("alice"))
            #expect(try await alice.readLine() == "* You are an operator.")
            _ = try await first.sync()

            first.send("/users all")
            #expect(
                try await first.readLine()
                    == "* 3 users online: alice #lobby [op], bob #lobby, first #lobby [plaintext]")
            first.send("/whois alice")
            let whois = try #require(try await first.readLine())
            #expect(whois.hasPrefix("* alice (operator): in #lobby"))
            #expect(whois.contains(CertificateFingerprint.normalize(fingerprint)))
            first.send("/kick bob")
            #expect(try await first.readLine() == "! That command is for operators only.")

            // The configured operator leaving passes the role to nobody.
            await alice.close()
            try await first.readUntil { $0.hasPrefix("* alice left #lobby") }
            #expect(try await first.sync().filter { $0.contains("operator") } == [])
            #expect(try await bob.sync().filter { $0.contains("operator") } == [])
            #expect(await server.hub.users(seenBy: ConnectionID(1), all: true).filter(\.isOperator).isEmpty)

            // alice is operator again when she comes back: the rule is her certificate, not her arrival.
            let again = try await TestClient.loggedIn("alice", port: server.tlsPort, tls: .withCertificate("alice"))
            #expect(try await again.readLine() == "* You are an operator.")
            for client in [first, bob, again] { await client.close() }
        }
    }

    @Test("configured operators at the hub: a fingerprint given directly, no TLS needed")
    func configuredOperatorAtTheHub() async throws {
        let hub = Hub(
            configuration: HubConfiguration(operatorFingerprints: ["AB:CD:EF"]),
            logger: TestServer.quietLogger()
        )
        func info(_ id: UInt64, _ fingerprint: String?) -> ClientInfo {
            ClientInfo(
                id: ConnectionID(id), address: "192.0.2.\(id)", transport: .tls(version: "TLSv1.3", cipher: "x"),
                connectedAt: .now(), certificateFingerprint: fingerprint
            )
        }
        let first = try Username.validate("first").get()
        let holder = try Username.validate("holder").get()
        let stranger = try Username.validate("stranger").get()
        #expect(
            await hub.login(info(1, nil), name: first, outbox: OperatorRecordingOutbox())
                == .loggedIn(room: .lobby, isOperator: false)
        )
        #expect(
            await hub.login(info(2, "00ff"), name: stranger, outbox: OperatorRecordingOutbox())
                == .loggedIn(room: .lobby, isOperator: false)
        )
        #expect(
            await hub.login(info(3, "abcdef"), name: holder, outbox: OperatorRecordingOutbox())
                == .loggedIn(room: .lobby, isOperator: true)
        )
        #expect(await hub.kick(by: ConnectionID(1), target: "stranger", reason: nil) == .notOperator)
        #expect(await hub.kick(by: ConnectionID(3), target: "stranger", reason: nil) == .done)
    }
}
