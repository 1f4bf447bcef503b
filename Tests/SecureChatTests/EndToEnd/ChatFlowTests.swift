import SecureChat
import Testing

extension EndToEnd {
    @Suite("Chat flow")
    struct ChatFlowTests {
        @Test("two clients chat: no echo, join and leave notices")
        func twoClientsChat() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                try await alice.readUntil { $0 == "* bob joined #lobby" }
                let replay = try await bob.sync()
                #expect(replay.contains { $0.hasSuffix("] * alice joined #lobby") })
                bob.send("hello alice")
                #expect(try await alice.readLine() == "bob: hello alice")
                // No echo: bob's next line is the answer to his barrier, not his own chat line.
                #expect(try await bob.sync() == [])
                await bob.close()
                #expect(try await alice.readLine() == "* bob left #lobby (connection closed)")
            }
        }

        @Test("greeting: plaintext warning, users online (counting logins and leaves), username prompt")
        func greeting() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                let client = try await server.connect()
                let greeting = try await client.collectUntil { $0.hasPrefix("* Choose a username") }
                #expect(greeting.first == "* Welcome to SecureChat.")
                #expect(greeting.contains { $0.hasPrefix("* Your connection is NOT encrypted") })
                #expect(greeting.contains("* 2 users online."))

                // The count in a greeting is the hub's as of its last step: a leave the others have been told
                // about is in it.
                await bob.close()
                try await alice.readUntil { $0 == "* bob left #lobby (connection closed)" }
                let next = try await server.connect()
                let nextGreeting = try await next.collectUntil { $0.hasPrefix("* Choose a username") }
                #expect(nextGreeting.contains("* 1 user online."))
            }
        }

        @Test("three clients: each chat line reaches both others exactly once, never its sender")
        func threeClients() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                let carol = try await server.login("carol")
                #expect(
                    try await alice.sync() == [
                        "* You are an operator.", "* bob joined #lobby", "* carol joined #lobby",
                    ])
                #expect(try await bob.sync().last == "* carol joined #lobby")
                _ = try await carol.sync()
                alice.send("from alice")
                bob.send("from bob")
                carol.send("from carol")
                // First barriers: each sender's line has been handed out. Second barriers: collect the rest.
                var received: [[String]] = []
                for client in [alice, bob, carol] { received.append(try await client.sync()) }
                for (index, client) in [alice, bob, carol].enumerated() { received[index] += try await client.sync() }
                #expect(received[0].sorted() == ["bob: from bob", "carol: from carol"])
                #expect(received[1].sorted() == ["alice: from alice", "carol: from carol"])
                #expect(received[2].sorted() == ["alice: from alice", "bob: from bob"])
            }
        }

        @Test("/users lists the room, /users all everyone, sorted, with markers")
        func users() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("Bob")
                _ = try await bob.sync()
                bob.send("/users")
                #expect(try await bob.readLine() == "* 2 users in #lobby: alice [op] [plaintext], Bob [plaintext]")
                alice.send("/WHO all")
                #expect(
                    try await alice.readUntil { $0.hasPrefix("* 2 users online") }
                        == "* 2 users online: alice #lobby [op] [plaintext], Bob #lobby [plaintext]")
                bob.send("/users nobody")
                #expect(try await bob.readLine() == "! Usage: /users [all].")
            }
        }

        @Test("/stats: my messages, connected since, transport; server figures")
        func stats() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                alice.send("one")
                alice.send("two")
                alice.send("/msg bob three")
                _ = try await alice.sync()
                alice.send("/stats")
                let mine = try #require(try await alice.readLine())
                #expect(
                    mine.wholeMatch(
                        of:
                            /\* You: 3 messages sent, connected since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+s\), over plaintext\./
                    ) != nil, "\(mine)")
                let serverLine = try #require(try await alice.readLine())
                #expect(
                    serverLine.hasPrefix("* Server: 2 users online in 1 room, 3 messages relayed, up "), "\(serverLine)"
                )
                bob.send("/stats")
                #expect(
                    try await bob.readUntil { $0.hasPrefix("* You:") }.hasPrefix(
                        "* You: 0 messages sent, connected since "))
            }
        }

        @Test("/quit with a reason: the quitter gets Bye and EOF, the others see the reason")
        func quitWithReason() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await alice.sync()
                bob.send("/quit gone fishing")
                #expect(try await bob.readToEnd().last == "* Bye!")
                #expect(try await alice.readLine() == "* bob left #lobby (quit: \"gone fishing\")")
                let carol = try await server.login("carol")
                carol.send("/QUIT")
                _ = try await carol.readToEnd()
                #expect(try await alice.readUntil { $0.hasPrefix("* carol left") } == "* carol left #lobby (quit)")
                // The name is free again.
                _ = try await server.login("bob")
            }
        }

        @Test("an unknown command gets an error that names /help; /help answers")
        func unknownCommand() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                #expect(try await alice.sync() == ["* You are an operator."])
                alice.send("/frobnicate now")
                let error = try #require(try await alice.readLine())
                #expect(error.hasPrefix("! "))
                #expect(error.contains("/frobnicate"))
                #expect(error.contains("/help"))
                alice.send("/help")
                let help = try await alice.sync()
                #expect(help.first == "* Commands (case-insensitive):")
                #expect(help.contains { $0.contains("/msg <user> <text>") })
                #expect(help.allSatisfy { $0.hasPrefix("* ") })
            }
        }

        @Test("// sends a line that starts with a literal /")
        func literalSlash() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await bob.sync()
                alice.send("//shrug")
                _ = try await alice.sync()
                #expect(try await bob.sync() == ["alice: /shrug"])
            }
        }

        @Test("a dropped connection (FIN or RST) is announced as a leave", arguments: [false, true])
        func droppedConnection(reset: Bool) async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await alice.sync()
                if reset { await bob.abort() } else { await bob.close() }
                #expect(try await alice.readLine() == "* bob left #lobby (connection closed)")
                alice.send("/users")
                #expect(try await alice.readLine() == "* 1 user in #lobby: alice [op] [plaintext]")
            }
        }
    }
}
