import Testing

@testable import SecureChat

/// `/kick`, `/ban`, `/unban`, `/bans` end to end over real sockets, on both transports.
///
/// Every test client comes from a loopback address; banning a user bans their address, so victims connect from
/// 127.0.0.2 (and friends) while the operator stays on 127.0.0.1.
@Suite("Operators: kick, ban, unban, permissions", .timeLimit(.minutes(2)))
struct ModerationTests {
    static let operatorsOnly = "! That command is for operators only."

    static let addressBanned = "! Your address is banned from this server."

    /// Connects from `source` and offers `name`. A banned name gets `! The name NAME is not available; choose
    /// another.` and the prompt again, and the connection stays: this then logs in as `instead` to prove it.
    /// Returns the refusal line (nil if the name was not refused).
    static func nameRefused(
        _ name: String,
        port: Int,
        from source: String,
        tls: TestClient.TLS? = nil,
        instead: String = "someone"
    ) async throws -> String? {
        let client = try await AbuseClient.connect(port: port, from: source, tls: tls)
        try await client.readUntil { $0.hasPrefix("* Choose a username") }
        client.send(name)
        let refusal = try await client.readLine()
        guard refusal?.hasPrefix("! ") == true else {
            await client.close()
            return nil
        }
        #expect(try await client.readLine()?.hasPrefix("* Choose a username") == true)
        client.send(instead)
        #expect(try await client.readLine()?.hasPrefix("* Welcome, \(instead)!") == true)
        // Leaves through the hub before the connection ends, so callers see a settled user list.
        client.send("/quit")
        _ = try await client.readToEnd()
        await client.close()
        return refusal
    }

    /// Connects from a banned `source`: refused at accept, before any greeting or TLS handshake. Returns what
    /// the client read before the server closed (plaintext: the one error line; TLS: nothing).
    static func refusedAtAccept(port: Int, from source: String, tls: TestClient.TLS? = nil) async throws -> [String] {
        let client = try await AbuseClient.connect(port: port, from: source, tls: tls)
        let lines = try await client.readToEnd()
        await client.close()
        return lines
    }

    @Test("a kicked client sees the reason and is disconnected; the room sees who did it", arguments: [false, true])
    func kick(overTLS: Bool) async throws {
        try await withTestServer({ $0.clientCAPath = TestCertificates.set.caCertificatePath }) { server in
            let port = overTLS ? server.tlsPort : server.port
            let alice = try await TestClient.loggedIn("alice", port: port, tls: overTLS ? .plain : nil)
            let bob = try await TestClient.loggedIn("bob", port: port, tls: overTLS ? .withCertificate("bob") : nil)
            let carol = try await TestClient.loggedIn("carol", port: server.port)
            for client in [alice, bob, carol] { _ = try await client.sync() }

            alice.send("/kick bob spamming the room")
            #expect(try await bob.readToEnd().last == "! You were kicked by alice: \"spamming the room\"")
            #expect(try await carol.readLine() == "* bob was kicked by alice (\"spamming the room\")")
            #expect(try await alice.readLine() == "* bob was kicked by alice (\"spamming the room\")")

            // A kick is not a ban: bob comes back, and a kick without a reason says none.
            let bobAgain = try await TestClient.loggedIn(
                "bob", port: port, tls: overTLS ? .withCertificate("bob") : nil)
            try await carol.readUntil { $0 == "* bob joined #lobby" }
            alice.send("/kick BOB")  // names ignore case
            #expect(try await bobAgain.readToEnd().last == "! You were kicked by alice")
            #expect(try await carol.readLine() == "* bob was kicked by alice")
            carol.send("/users")
            #expect(try await carol.readLine()?.hasPrefix("* 2 users in #lobby: alice [op]") == true)
            #expect(await server.hub.onlineCount == 2)
            await alice.close()
            await carol.close()
        }
    }

    @Test("kicking someone in another room: their room sees it, the operator is told, the operator's room is not")
    func kickAcrossRooms() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let carol = try await TestClient.loggedIn("carol", port: server.port)
            let dave = try await TestClient.loggedIn("dave", port: server.port)
            for client in [bob, dave] {
                client.send("/join #dev")
                try await client.readUntil { $0.hasPrefix("* You joined #dev") }
            }
            for client in [alice, bob, carol, dave] { _ = try await client.sync() }

            alice.send("/kick bob off-topic")
            #expect(try await bob.readToEnd().last == "! You were kicked by alice: \"off-topic\"")
            #expect(try await dave.readLine() == "* bob was kicked by alice (\"off-topic\")")
            #expect(try await alice.readLine() == "* bob was kicked by alice (\"off-topic\")")
            #expect(try await carol.sync() == [])
            #expect(try await alice.sync() == [])
            for client in [alice, carol, dave] { await client.close() }
        }
    }

    @Test(
        "a banned client reconnecting is refused by name and by address; /bans lists it; /unban lets them back",
        arguments: [false, true]
    )
    func banEndToEnd(overTLS: Bool) async throws {
        try await withTestServer({ $0.clientCAPath = TestCertificates.set.caCertificatePath }) { server in
            let port = overTLS ? server.tlsPort : server.port
            let tls: TestClient.TLS? = overTLS ? .withCertificate("bob") : nil
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let carol = try await TestClient.loggedIn("carol", port: server.port)
            let bob = try await AbuseClient.loggedIn("bob", port: port, from: "127.0.0.2", tls: tls)
            for client in [alice, carol] { _ = try await client.sync() }

            alice.send("/ban bob flooding")
            #expect(try await bob.readToEnd().last == "! You were banned by alice: \"flooding\"")
            #expect(try await carol.readLine() == "* bob was banned by alice (\"flooding\")")
            #expect(try await alice.readLine() == "* bob was banned by alice (\"flooding\")")

            // By name (any case), from an address that is not banned.
            // Neither refusal says who banned, why, or from which address.
            let byName = try await Self.nameRefused("Bob", port: port, from: "127.0.0.3", tls: tls, instead: "bobby")
            #expect(byName == "! The name Bob is not available; choose another.")
            // By address, under any name: refused at accept.
            let byAddress = try await Self.refusedAtAccept(port: port, from: "127.0.0.2", tls: tls)
            #expect(byAddress == (overTLS ? [] : [Self.addressBanned]))
            // The refused logins left no trace; other addresses and names are unaffected.
            let frank = try await AbuseClient.loggedIn("frank", port: port, from: "127.0.0.3", tls: tls)
            carol.send("/users all")
            #expect(
                try await carol.readUntil { $0.hasPrefix("* ") && $0.contains("online") }
                    == "* 3 users online: alice #lobby [op] [plaintext], carol #lobby [plaintext], frank #lobby"
                    + (overTLS ? "" : " [plaintext]")
            )

            alice.send("/bans")
            #expect(try await alice.readUntil { $0.hasPrefix("* 1 ban") } == "* 1 ban:")
            let summary = try #require(try await alice.readLine())
            // An operator by the first-user rule sees no address (issue 24), and a handle to lift the ban by.
            #expect(summary.hasPrefix("*   #1 bob, by alice at "))
            #expect(summary.hasSuffix(" UTC: flooding"))

            alice.send("/unban bob")
            #expect(try await alice.readLine() == "* Lifted the ban on bob.")
            alice.send("/unban bob")
            #expect(try await alice.readLine() == "! Nothing is banned under bob.")
            alice.send("/bans")
            #expect(try await alice.readLine() == "* 0 bans.")
            // A page number past Int.max's page count is answered, not an overflow trap that stops the server.
            alice.send("/bans 9223372036854775807")
            #expect(try await alice.readLine() == "* 0 bans.")
            // Name and address are free again.
            let bobBack = try await AbuseClient.loggedIn("bob", port: port, from: "127.0.0.2", tls: tls)
            try await carol.readUntil { $0 == "* bob joined #lobby" }
            for client in [alice, carol] { await client.close() }
            await frank.close()
            await bobBack.close()
        }
    }

    @Test(
        "/unban by a user's address lifts nothing for a first-user operator, /unban #n lifts that ban (name included) and no other; a ban without a reason reads without one"
    )
    func unbanByAddress() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await AbuseClient.loggedIn("bob", port: server.port, from: "127.0.0.2")
            let dave = try await AbuseClient.loggedIn("dave", port: server.port, from: "127.0.0.4")
            alice.send("/ban bob")
            #expect(try await bob.readToEnd().last == "! You were banned by alice")
            alice.send("/ban dave rude")
            #expect(try await dave.readToEnd().last == "! You were banned by alice: \"rude\"")
            _ = try await alice.sync()

            // Guessing a user's address at /unban tells a first-user operator nothing (issue 24).
            alice.send("/unban 127.0.0.2")
            #expect(try await alice.readLine() == "! Nothing is banned under 127.0.0.2.")
            alice.send("/bans")
            #expect(try await alice.readLine() == "* 2 bans:")
            #expect(try await alice.readLine()?.hasPrefix("*   #1 bob, by alice at ") == true)
            #expect(try await alice.readLine()?.hasPrefix("*   #2 dave, by alice at ") == true)
            alice.send("/unban #1")
            #expect(try await alice.readLine() == "* Lifted the ban on #1.")
            alice.send("/bans")
            #expect(try await alice.readLine() == "* 1 ban:")
            #expect(try await alice.readLine()?.hasPrefix("*   #2 dave, by alice at ") == true)

            let bobBack = try await AbuseClient.loggedIn("bob", port: server.port, from: "127.0.0.3")
            let refused = try await Self.nameRefused("dave", port: server.port, from: "127.0.0.3", instead: "dave2")
            #expect(refused == "! The name dave is not available; choose another.")
            #expect(try await Self.refusedAtAccept(port: server.port, from: "127.0.0.4") == [Self.addressBanned])
            await bobBack.close()
            await alice.close()
        }
    }

    @Test("every operator command from a non-operator is refused and changes nothing")
    func nonOperatorsAreRefused() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let victim = try await AbuseClient.loggedIn("victim", port: server.port, from: "127.0.0.2")
            alice.send("/ban victim")
            _ = try await victim.readToEnd()
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            _ = try await alice.sync()
            _ = try await bob.sync()

            for command in [
                "/kick alice", "/kick alice go away", "/kick nobody", "/ban alice", "/ban alice reason",
                "/ban nobody", "/unban victim", "/unban 127.0.0.2", "/unban nobody", "/bans", "/KICK alice",
            ] {
                bob.send(command)
                #expect(try await bob.readLine() == Self.operatorsOnly, "\(command)")
            }
            // Nothing happened: alice is here and unaware, the ban stands.
            #expect(try await alice.sync() == [])
            alice.send("/bans")
            #expect(try await alice.readLine() == "* 1 ban:")
            #expect(await server.hub.onlineCount == 2)
            let refused = try await Self.nameRefused("victim", port: server.port, from: "127.0.0.3", instead: "other")
            #expect(refused == "! The name victim is not available; choose another.")
            await alice.close()
            await bob.close()
        }
    }

    @Test("an operator cannot kick or ban themselves; unknown targets and missing arguments are errors")
    func operatorMistakes() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            _ = try await alice.sync()
            alice.send("/kick alice")
            #expect(try await alice.readLine() == "! You cannot do that to yourself.")
            alice.send("/ban ALICE because")
            #expect(try await alice.readLine() == "! You cannot do that to yourself.")
            alice.send("/kick nobody")
            #expect(try await alice.readLine() == "! No user named nobody is online.")
            alice.send("/ban nobody")
            #expect(try await alice.readLine() == "! No user named nobody is online.")
            alice.send("/unban nobody")
            #expect(try await alice.readLine() == "! Nothing is banned under nobody.")
            for command in ["/kick", "/ban", "/unban", "/unban a b"] {
                alice.send(command)
                let line = try #require(try await alice.readLine())
                #expect(line.hasPrefix("! "), "\(command)")
                #expect(line.contains(String(command.split(separator: " ")[0].dropFirst())), "\(command)")
            }
            alice.send("/bans")
            #expect(try await alice.readLine() == "* 0 bans.")
            // Still connected, still operator.
            alice.send("/whois alice")
            #expect(try await alice.readLine()?.hasPrefix("* alice (operator): ") == true)
            #expect(server.server.counters[.connectionAccepted] == 1)
            await alice.close()
        }
    }

    @Test("/ban of a network disconnects everyone in it and refuses it at accept, before any greeting; /unban lifts it")
    func networkBan() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await AbuseClient.loggedIn("bob", port: server.port, from: "127.0.0.20")
            let carol = try await AbuseClient.loggedIn("carol", port: server.port, from: "127.0.0.40")
            _ = try await alice.sync()
            // Wider than /16 is refused from chat whatever it holds (issue 24).
            alice.send("/ban 127.0.0.0/8")
            #expect(
                try await alice.readLine()
                    == "! 127.0.0.0/8 is too wide to ban from chat (at most /16); wider bans belong in the ban file.")
            alice.send("/ban 127.0.0.0/16")
            #expect(
                try await alice.readLine()
                    == "! You are connected from inside 127.0.0.0/16; you cannot ban your own address.")
            alice.send("/ban 127.0.0.16/28 botnet")
            #expect(try await bob.readToEnd().last == "! You were banned by alice: \"botnet\"")
            #expect(
                try await alice.readUntil { $0.hasPrefix("* Banned") } == "* Banned 127.0.0.16/28; 1 user disconnected."
            )
            let refusedBefore = server.server.counters[.refusedBanned]
            #expect(try await Self.refusedAtAccept(port: server.port, from: "127.0.0.25") == [Self.addressBanned])
            #expect(try await Self.refusedAtAccept(port: server.tlsPort, from: "127.0.0.25", tls: .plain) == [])
            #expect(server.server.counters[.refusedBanned] == refusedBefore + 2)
            #expect(server.server.counters[.tlsHandshakeCompleted] == 0)
            alice.send("/unban 127.0.0.16/28")
            #expect(try await alice.readLine() == "* Lifted the ban on 127.0.0.16/28.")
            let back = try await AbuseClient.loggedIn("bob", port: server.port, from: "127.0.0.25")
            for client in [alice, carol, back] { await client.close() }
        }
    }
}
