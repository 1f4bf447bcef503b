import SecureChat
import Testing

@Suite("Rooms: /join /leave /rooms, scoping and per-room history")
struct RoomTests {
    @Test("chat, /users and notices stay inside each of three rooms; /users all and /rooms see everything")
    func scoping() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let carol = try await TestClient.loggedIn("carol", port: server.port)
            let dave = try await TestClient.loggedIn("dave", port: server.port)
            bob.send("/join #dev")
            try await bob.readUntil { $0 == "* You joined #dev (1 here)." }
            carol.send("/join OPS")  // the # is optional and the name is folded to lower case
            try await carol.readUntil { $0 == "* You joined #ops (1 here)." }
            dave.send("/join #dev")
            try await dave.readUntil { $0 == "* You joined #dev (2 here)." }
            try await bob.readUntil { $0 == "* dave joined #dev" }
            for client in [alice, bob, carol, dave] { _ = try await client.sync() }

            alice.send("lobby line")
            bob.send("dev line")
            carol.send("ops line")
            #expect(try await dave.readLine() == "bob: dev line")
            for client in [alice, bob, carol, dave] { _ = try await client.sync() }
            // Nobody outside #dev saw the #dev line and vice versa: each client's stream held only its room's.
            alice.send("/users")
            #expect(try await alice.readLine() == "* 1 user in #lobby: alice [op] [plaintext]")
            bob.send("/users")
            #expect(try await bob.readLine() == "* 2 users in #dev: bob [plaintext], dave [plaintext]")
            carol.send("/users all")
            let all = try #require(try await carol.readLine())
            #expect(all.hasPrefix("* 4 users online: "))
            #expect(all.contains("bob #dev"))
            #expect(all.contains("carol #ops"))
            #expect(all.contains("alice #lobby [op]"))
            carol.send("/rooms")
            #expect(try await carol.readLine() == "* 3 rooms: #dev (2), #lobby (1), #ops (1)")
            // /msg crosses rooms.
            carol.send("/msg alice psst")
            #expect(try await alice.readLine() == "[dm] carol: psst")
            for client in [alice, bob, carol, dave] { await client.close() }
        }
    }

    @Test("joining replays the room's own history; leaving announces where one went; empty rooms vanish")
    func historyAndLifecycle() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            alice.send("/join #dev")
            try await alice.readUntil { $0.hasPrefix("* You joined #dev") }
            alice.send("first in dev")
            alice.send("second in dev")
            _ = try await alice.sync()
            try await bob.readUntil { $0 == "* alice left #lobby (joined #dev)" }

            bob.send("/join dev")
            let joined = try await bob.collectUntil { $0 == "* End of history." }
            let replay = joined.filter { $0.hasPrefix("[") }
            #expect(replay.count == 3)
            #expect(replay[0].hasSuffix("] * alice joined #dev"))
            #expect(replay[1].hasSuffix("] alice: first in dev"))
            #expect(replay[2].hasSuffix("] alice: second in dev"))
            #expect(!joined.contains { $0.contains("lobby") && $0.hasPrefix("[") })
            try await alice.readUntil { $0 == "* bob joined #dev" }

            bob.send("/leave")
            try await alice.readUntil { $0 == "* bob left #dev (joined #lobby)" }
            bob.send("/leave")
            try await bob.readUntil { $0.hasPrefix("! You are in #lobby already") }
            alice.send("/leave")
            _ = try await alice.sync()
            bob.send("/rooms")
            #expect(try await bob.readUntil { $0.hasPrefix("* ") && $0.contains("room") } == "* 1 room: #lobby (2)")
            // A new #dev starts with no history.
            alice.send("/join #dev")
            let fresh = try await alice.collectUntil { $0.hasPrefix("* You joined #dev") }
            #expect(!fresh.contains { $0.contains("first in dev") })
            #expect(try await alice.sync() == [])
            await alice.close()
            await bob.close()
        }
    }

    @Test("bad room names and the room cap get clear errors")
    func limits() async throws {
        try await withTestServer({ $0.maximumRooms = 2 }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            _ = try await alice.sync()
            for bad in ["#", "#has space", "#" + String(repeating: "a", count: 33), "#caf\u{e9}", "#a:b"] {
                alice.send("/join \(bad)")
                let line = try #require(try await alice.readLine())
                #expect(line.hasPrefix("! "), "\(bad) gave \(line)")
            }
            alice.send("/join #one")
            try await alice.readUntil { $0.hasPrefix("* You joined #one") }
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            bob.send("/join #one")
            try await bob.readUntil { $0.hasPrefix("* You joined #one") }
            try await alice.readUntil { $0 == "* bob joined #one" }
            // #lobby and #one exist and #one stays (bob is there): a third room is refused; alice stays in #one.
            alice.send("/join #two")
            #expect(try await alice.readLine() == "! The server has too many rooms; join an existing one (/rooms).")
            alice.send("/join #one")
            #expect(try await alice.readLine() == "! You are already in #one.")
            // Alone in #one, bob's move empties it: that frees the slot #two needs.
            alice.send("/leave")
            try await bob.readUntil { $0.hasPrefix("* alice left #one") }
            bob.send("/join #two")
            #expect(try await bob.readLine() == "* You joined #two (1 here).")
            await alice.close()
            await bob.close()
        }
    }
}
