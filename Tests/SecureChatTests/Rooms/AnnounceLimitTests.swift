import SecureChat
import Testing

@Suite("Joins and leaves in crowded rooms")
struct AnnounceLimitTests {
    @Test("past the announce limit joins and leaves go unannounced and unstored; kicks are still announced")
    func crowdedRoomsAreQuiet() async throws {
        try await withTestServer({ $0.announceLimit = 2 }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            try await alice.readUntil { $0 == "* bob joined #lobby" }
            _ = try await bob.sync()
            let carol = try await TestClient.loggedIn("carol", port: server.port)
            let dave = try await TestClient.loggedIn("dave", port: server.port)
            _ = try await carol.sync()
            _ = try await dave.sync()
            #expect(try await alice.sync() == [])
            #expect(try await bob.sync() == [])
            await dave.close()
            // Dave's departure must be the hub's before the kick: with him gone the room is still over the
            // limit (3 > 2), so it goes unannounced; after the kick it would not be.
            try await eventually("dave gone") { await server.hub.onlineCount == 3 }
            alice.send("/kick carol too loud")
            #expect(try await bob.readUntil { $0.contains("carol") } == "* carol was kicked by alice (\"too loud\")")
            // History holds only what was announced: alice's and bob's joins, and the kick.
            let eve = try await TestClient.loggedIn("eve", port: server.port)
            let replay = try await eve.sync().filter { $0.hasPrefix("[") }.map {
                String($0.drop { $0 != " " }.dropFirst())
            }
            #expect(
                replay == [
                    "* alice joined #lobby", "* bob joined #lobby", "* carol was kicked by alice (\"too loud\")",
                ])
            for client in [alice, bob, eve] { await client.close() }
        }
    }
}
