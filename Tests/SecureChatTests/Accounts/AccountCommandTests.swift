import Foundation
import Testing

@testable import SecureChat

/// `/register`, `/password`, `/unregister` and the operators' `/account`, over TLS and refused on plaintext.
@Suite("Accounts: the account commands", .timeLimit(.minutes(2)))
struct AccountCommandTests {
    static let alice = (name: "alice", password: Optional("alice's long password"))

    /// A TLS client logged in under the free name `name`.
    static func tlsUser(_ name: String, _ server: TestServer, from source: String? = nil) async throws -> TestClient {
        let client = try await TestClient.loggedIn(name, port: server.tlsPort, from: source, tls: .plain)
        server.track(client)
        _ = try await client.sync()
        return client
    }

    /// The first line answering `command` (whatever came before it is read first).
    static func answer(_ client: TestClient, _ command: String) async throws -> String? {
        _ = try await client.sync()
        client.send(command)
        return try await client.readLine()
    }

    static func savedAccount(_ path: String, _ name: String) -> Account? {
        (try? AccountFile.load(path: path))?.account(forKey: Username.key(for: name))
    }

    @Test("/register over TLS: the name is the user's from then on, on both ports")
    func register() async throws {
        try await Accounts.withServer([]) { server, path in
            let bob = try await Self.tlsUser("bob", server)
            #expect(try await Self.answer(bob, "/register short") == "! Passwords are 10 to 128 characters.")
            #expect(
                try await Self.answer(bob, "/register bob's long password")
                    == "* bob is now registered to you: log in with its password from now on.")
            #expect(
                try await Self.answer(bob, "/register again and again")
                    == "! bob is registered already; /password <old> <new> changes its password.")
            bob.send("/whois bob")
            #expect(try await bob.readLine()?.hasSuffix("; registered, logged in with a password.") == true)
            try await eventually("the account to be saved") { Self.savedAccount(path, "bob") != nil }
            await bob.close()
            // Reserved now: plaintext refuses it, TLS asks for its password.
            let plain = try await server.connect()
            _ = try await plain.readUntil { $0 == Accounts.prompt }
            plain.send("B0B")
            #expect(try await plain.readLine() == Accounts.overTLSOnly("bob", server))
            _ = try await Accounts.loggedIn("bob", password: "bob's long password", server)
        }
    }

    @Test("on plaintext the account commands but /account drop are refused; /register says not to use the password")
    func plaintextRefuses() async throws {
        try await Accounts.withServer([Self.alice]) { server, path in
            let carol = try await server.login("carol")
            #expect(
                try await Self.answer(carol, "/register carol's long password")
                    == "! Not registered: that password crossed the network unencrypted, so do not use it anywhere. "
                    + "Register over TLS (port \(server.tlsPort)) with another one.")
            let refusal =
                "! Account commands work over TLS only (port \(server.tlsPort)): they carry passwords and certificates."
            for command in [
                "/register cert", "/password a b", "/cert add", "/cert list", "/unregister something long",
                "/account reset alice",
            ] {
                #expect(try await Self.answer(carol, command) == refusal, "\(command)")
            }
            _ = try await carol.sync()
            #expect(Self.savedAccount(path, "carol") == nil)
            // Dropping carries no secret: an operator (carol, the first user) may drop from plaintext.
            #expect(
                try await Self.answer(carol, "/account drop alice") == "* Dropped the account alice; the name is free.")
        }
    }

    @Test("/password checks the old password (quoted when it has spaces) and the new one logs in")
    func changePassword() async throws {
        try await Accounts.withServer([Self.alice]) { server, _ in
            let alice = try await Accounts.loggedIn("alice", password: "alice's long password", server)
            #expect(try await Self.answer(alice, "/password wrong new password here") == "! Wrong password.")
            #expect(
                try await Self.answer(alice, "/password \"alice's long password\" short")
                    == "! Passwords are 10 to 128 characters.")
            #expect(
                try await Self.answer(alice, "/password \"alice's long password\" a brand new password")
                    == "* Password changed.")
            let old = try await Accounts.atPasswordPrompt("alice", server)
            old.send("alice's long password")
            #expect(try await old.readLine() == "! Wrong password for alice.")
            _ = try await Accounts.loggedIn("alice", password: "a brand new password", server)
        }
    }

    @Test("/unregister: the name is free of its account, and nobody may take it for 30 days")
    func unregister() async throws {
        try await Accounts.withServer([Self.alice]) { server, path in
            let alice = try await Accounts.loggedIn("alice", password: "alice's long password", server)
            #expect(try await Self.answer(alice, "/unregister not the password") == "! Wrong password.")
            let answer = try #require(try await Self.answer(alice, "/unregister alice's long password"))
            #expect(answer.hasPrefix("* alice is no longer registered. Nobody can register or take the name until "))
            try await eventually("the hold to be saved") {
                (try? AccountFile.load(path: path))?.held(forKey: Username.key(for: "alice")) != nil
            }
            #expect(
                try await Self.answer(alice, "/register alice's new password")
                    == "! alice was unregistered lately and cannot be registered yet.")
            await alice.close()
            for port in [server.port, server.tlsPort] {
                let client = try await TestClient.connect(port: port, tls: port == server.port ? nil : .plain)
                server.track(client)
                _ = try await client.readUntil { $0 == Accounts.prompt }
                client.send("ALICE")
                #expect(try await client.readLine() == "! The name ALICE is not available; choose another.")
            }
        }
    }

    @Test("/account drop and /account reset are for operators; a one-time password logs in once")
    func operatorCommands() async throws {
        try await Accounts.withServer([Self.alice]) { server, _ in
            let op = try await Self.tlsUser("chief", server)  // the first user: operator
            let other = try await Self.tlsUser("other", server)
            #expect(try await Self.answer(other, "/account reset alice") == "! That command is for operators only.")
            #expect(try await Self.answer(other, "/account drop alice") == "! That command is for operators only.")
            #expect(try await Self.answer(op, "/account reset nobody") == "! nobody is not registered.")

            let line = try #require(try await Self.answer(op, "/account reset alice"))
            let prefix = "* One-time password for alice, shown to you alone: "
            #expect(line.hasPrefix(prefix))
            let oneTime = String(line.dropFirst(prefix.count))
            #expect(
                try await op.readLine()
                    == "* It logs in once; then alice sets a new password with /register <password>.")
            #expect(try await other.sync().allSatisfy { !$0.contains(oneTime) })

            let alice = try await Accounts.loggedIn("alice", password: oneTime, server)
            // Used up: until alice sets a new password, the account has none to log in with.
            let again = try await TestClient.connect(port: server.tlsPort, tls: .plain)
            server.track(again)
            _ = try await again.readUntil { $0 == Accounts.prompt }
            again.send("alice")
            #expect(
                try await again.readLine()
                    == "! alice is registered and has no password to log in with; choose another name.")
            #expect(try await Self.answer(alice, "/register alice's newest password") == "* Password set for alice.")
            _ = try await Accounts.loggedIn("alice", password: "alice's newest password", server)

            #expect(
                try await Self.answer(op, "/account drop ALICE") == "* Dropped the account alice; the name is free.")
            let plain = try await server.connect()
            _ = try await plain.readUntil { $0 == Accounts.prompt }
            plain.send("alice")
            #expect(try await plain.readLine() == "! The name alice is taken (names are compared ignoring case).")
        }
    }

    @Test("registrations are limited per address and on the whole server")
    func registrationLimits() async throws {
        try await Accounts.withServer([]) {
            $0.accountLimits.registrationsPerAddress = .init(perSecond: 0.0001, burst: 1)
            $0.accountLimits.registrationsOverall = .init(perSecond: 0.0001, burst: 2)
        } _: { server, _ in
            let tooFast = "! Too many registrations lately (from your address or on the server); try again later."
            let first = try await Self.tlsUser("first", server, from: "127.0.0.2")
            let second = try await Self.tlsUser("second", server, from: "127.0.0.2")
            let third = try await Self.tlsUser("third", server, from: "127.0.0.3")
            let fourth = try await Self.tlsUser("fourth", server, from: "127.0.0.4")
            #expect(
                try await Self.answer(first, "/register a long password")?.hasPrefix("* first is now registered")
                    == true)
            #expect(try await Self.answer(second, "/register a long password") == tooFast)
            #expect(
                try await Self.answer(third, "/register a long password")?.hasPrefix("* third is now registered")
                    == true)
            #expect(try await Self.answer(fourth, "/register a long password") == tooFast)
        }
    }

    @Test("without --account-file the commands say there are no accounts")
    func accountsOff() async throws {
        try await withTestServer { server in
            let user = try await AccountCommandTests.tlsUser("user", server)
            #expect(
                try await Self.answer(user, "/register a long password")
                    == "! This server has no accounts (it runs without --account-file).")
        }
    }

    @Test("/cert add without a client certificate says so")
    func certificateNeeded() async throws {
        try await Accounts.withServer([Self.alice]) { server, _ in
            let alice = try await Accounts.loggedIn("alice", password: "alice's long password", server)
            #expect(
                try await Self.answer(alice, "/cert add")
                    == "! Your connection has no client certificate; connect with one to bind it.")
            #expect(
                try await Self.answer(alice, "/cert list") == "* No certificate logs you in; /cert add binds this one.")
            #expect(
                try await Self.answer(alice, "/register cert")
                    == "! Your connection has no client certificate; connect with one to bind it.")
        }
    }
}
