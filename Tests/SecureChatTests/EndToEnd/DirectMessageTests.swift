import SecureChat
import Testing

extension EndToEnd {
    @Suite("Direct messages")
    struct DirectMessageTests {
        @Test("/msg: the recipient sees [dm] sender: text, the sender [dm -> recipient] text, nobody else anything")
        func bothSides() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("Bob")
                let carol = try await server.login("carol")
                for client in [alice, bob, carol] { _ = try await client.sync() }
                alice.send("/msg bob hi   there, Bob")
                #expect(try await alice.sync() == ["[dm -> Bob] hi   there, Bob"])
                #expect(try await bob.sync() == ["[dm] alice: hi   there, Bob"])
                #expect(try await carol.sync() == [])
                bob.send("/dm ALICE back at you")
                #expect(try await alice.readLine() == "[dm] Bob: back at you")
            }
        }

        @Test("/msg errors: unknown user, self, missing text")
        func errors() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                _ = try await alice.sync()
                alice.send("/msg zed hello")
                #expect(try await alice.readLine() == "! No user named zed is online.")
                alice.send("/msg Alice hello me")
                #expect(try await alice.readLine() == "! You cannot send a direct message to yourself.")
                alice.send("/msg alice")
                #expect(try await alice.readLine() == "! Usage: /msg <user> <text>.")
                alice.send("/msg")
                #expect(try await alice.readLine() == "! Usage: /msg <user> <text>.")
            }
        }

        @Test("a DM to a user who just left is refused as unknown")
        func toDeparted() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await alice.sync()
                bob.send("/quit")
                _ = try await bob.readToEnd()
                try await alice.readUntil { $0.hasPrefix("* bob left") }
                alice.send("/msg bob are you there")
                #expect(try await alice.readLine() == "! No user named bob is online.")
            }
        }
    }
}
