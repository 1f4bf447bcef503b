import Foundation
import Testing

@testable import SecureChat

/// Registered names are their owners': TLS asks for the password, plaintext refuses, look-alikes included.
@Suite("Accounts: logging in to a registered name", .timeLimit(.minutes(2)))
struct AccountLoginTests {
    static let alice = (name: "alice", password: "correct horse battery staple")

    @Test("TLS: the name asks for its password; the right one logs in as the registered name and is recorded")
    func passwordOverTLS() async throws {
        try await Accounts.withServer([Self.alice]) { server, path in
            let client = try await Accounts.atPasswordPrompt("alice", server)
            client.send(Self.alice.password)
            #expect(
                try await client.readLine()
                    == "* Welcome back, alice! You are in #lobby with 0 others. Type /help for commands.")
            try await eventually("the log-in time to be saved") {
                (try? AccountFile.load(path: path))?.account(forKey: Username.key(for: "alice"))?.lastLogin != nil
            }
            // A look-alike is the registered name: it asks for alice's password, and logs in as alice.
            let lookalike = try await Accounts.atPasswordPrompt("AIice", server, as: "alice")
            lookalike.send(Self.alice.password)
            #expect(
                try await lookalike.readUntil { $0.hasPrefix("* Welcome back") }.hasPrefix("* Welcome back, alice!"))
            // An unregistered name logs in as before, on either port.
            let bob = try await server.login("bob")
            bob.send("/whois alice")
            let whois = try await bob.readUntil { $0.hasPrefix("* alice") }
            #expect(whois.hasSuffix("; registered, logged in with a password."), "\(whois)")
            bob.send("/whois bob")
            #expect(try await bob.readUntil { $0.hasPrefix("* bob") }.hasSuffix("; not registered."))
        }
    }

    @Test("a log-in re-hashes a password whose hash was made with other parameters, and the new hash is saved")
    func rehashAtLogIn() async throws {
        let today = PasswordHashParameters(memoryKiB: 128, passes: 2, lanes: 1)
        try await Accounts.withServer([Self.alice]) {
            $0.accountLimits.hashParameters = today
        } _: { server, path in
            let stored = { (try? AccountFile.load(path: path))?.account(forKey: Username.key(for: "alice"))?.hash }
            #expect(stored()?.hasPrefix("$argon2id$v=19$m=64,t=1,p=1$") == true)
            _ = try await Accounts.loggedIn("alice", password: Self.alice.password, server)
            try await eventually("the new hash to be saved") {
                stored()?.hasPrefix("$argon2id$v=19$m=128,t=2,p=1$") == true
            }
            _ = try await Accounts.loggedIn("alice", password: Self.alice.password, server)
        }
    }

    @Test("plaintext: a registered name or its look-alike is refused with the TLS port named, and the prompt again")
    func plaintextRefuses() async throws {
        try await Accounts.withServer([Self.alice]) { server, _ in
            let client = try await server.connect()
            _ = try await client.readUntil { $0 == Accounts.prompt }
            for typed in ["alice", "ALICE", "a1ice"] {
                client.send(typed)
                #expect(try await client.readLine() == Accounts.overTLSOnly("alice", server))
                #expect(try await client.readLine() == Accounts.prompt)
            }
            // The password is never asked for here: typed at the prompt, it is just a name refused.
            client.send(Self.alice.password)
            #expect(try await client.readLine()?.hasPrefix("! Cannot use that name") == true)
            try await client.answerPrompt("carol")
        }
    }

    @Test("a wrong password gets an error and the name prompt; the third one closes the connection")
    func threeWrongPasswords() async throws {
        try await Accounts.withServer([Self.alice]) { server, _ in
            let client = try await Accounts.atPasswordPrompt("alice", server)
            client.send("not the password 1")
            #expect(try await client.readLine() == "! Wrong password for alice.")
            #expect(try await client.readLine() == Accounts.prompt)
            client.send("alice")
            #expect(try await client.readLine() == Accounts.passwordPrompt("alice"))
            client.send("not the password 2")
            #expect(try await client.readLine() == "! Wrong password for alice.")
            #expect(try await client.readLine() == Accounts.prompt)
            client.send("alice")
            _ = try await client.readLine()
            client.send("not the password 3")
            #expect(
                try await client.readToEnd() == ["! Wrong password for alice.", "! Too many wrong passwords; goodbye."])
        }
    }

    @Test("at the password prompt, a line too short to be a password is another name")
    func anotherName() async throws {
        try await Accounts.withServer([Self.alice]) { server, _ in
            let client = try await Accounts.atPasswordPrompt("alice", server)
            client.send("bob")
            #expect(try await client.readLine()?.hasPrefix("* Welcome, bob!") == true)
        }
    }

    @Test("a log-in takes the name over from an older connection, which is told, and the room sees it leave")
    func takeOver() async throws {
        try await Accounts.withServer([Self.alice]) { server, _ in
            let old = try await Accounts.loggedIn("alice", password: Self.alice.password, server)
            let watcher = try await server.login("bob")
            let new = try await Accounts.atPasswordPrompt("alice", server)
            new.send(Self.alice.password)
            #expect(try await new.readLine()?.hasPrefix("* Welcome back, alice!") == true)
            #expect(try await old.readToEnd().last == "! You logged in from another connection.")
            #expect(
                try await watcher.readUntil { $0.hasPrefix("* alice left") }
                    == "* alice left #lobby (logged in elsewhere)")
            // (Between them, the operator role passes from alice to bob: she was the first user.)
            #expect(try await watcher.readUntil { $0.hasPrefix("* alice") } == "* alice joined #lobby")
            new.send("/whois alice")
            #expect(
                try await new.readUntil { $0.hasPrefix("* alice") }.contains("; registered, logged in with a password"))
        }
    }

    @Test("without --account-file nothing changes: any free name logs in on either port")
    func accountsOff() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.tlsPort, tls: .plain)
            server.track(alice)
            alice.send("/whois alice")
            #expect(try await alice.readLine()?.contains("registered") == false)
        }
    }
}

@Suite("Accounts: --operator-account", .timeLimit(.minutes(2)))
struct OperatorAccountTests {
    @Test("the owner of an operator account is an operator once logged in; the first-user rule is off")
    func operatorAccount() async throws {
        try await Accounts.withServer([(name: "boss", password: "the boss's password")]) {
            $0.operatorAccounts = ["boss"]
        } _: { server, _ in
            // First to arrive, yet no operator: configured operators replace the first-user rule.
            let first = try await server.login("first")
            first.send("/kick first")
            #expect(try await first.readLine() == "! That command is for operators only.")
            let boss = try await Accounts.atPasswordPrompt("boss", server)
            boss.send("the boss's password")
            #expect(try await boss.readLine()?.hasPrefix("* Welcome back, boss!") == true)
            #expect(try await boss.readLine() == "* You are an operator.")
            boss.send("/kick first")
            #expect(try await first.readToEnd().last == "! You were kicked by boss")
        }
    }
}
