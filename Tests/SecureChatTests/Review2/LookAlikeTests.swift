import Testing

@testable import SecureChat

/// Issue 24, point 9: the multi-letter look-alikes `rn`/`m` and `vv`/`w`, in names, reserved names and rooms.
@Suite("Review 2: rn looks like m, vv like w")
struct LookAlikeTests {
    @Test("rnallory is mallory, vvalter is walter; either spelling in any cut meets in one skeleton")
    func skeletons() {
        #expect(Username.key(for: "rnallory") == Username.key(for: "mallory"))
        #expect(Username.key(for: "RNallory") == Username.key(for: "Mallory"))
        #expect(Username.key(for: "vvalter") == Username.key(for: "walter"))
        #expect(Username.key(for: "vvv") == Username.key(for: "wv"))
        #expect(Username.key(for: "vw") == Username.key(for: "wv"))
        #expect(Username.key(for: "rnm") == Username.key(for: "mrn"))
        #expect(Username.key(for: "rn") != Username.key(for: "r"))
    }

    @Test(
        "reserved names disguised with rn or vv are refused",
        arguments: ["adrnin", "rnoderator", "ADRNIN", "rnod", "r00t", "sysop"])
    func reservedInDisguise(name: String) {
        #expect(Username.validate(name) == .failure(.reserved))
    }

    @Test("rnallory cannot log in while mallory is online")
    func lookAlikeNameTaken() async throws {
        let chat = ReviewHub()
        try await chat.login("mallory", id: 1)
        await #expect(throws: ReviewHub.LoginRefused.self) { try await chat.login("rnallory", id: 2) }
        await #expect(throws: ReviewHub.LoginRefused.self) { try await chat.login("MaIlory", id: 3) }
    }

    @Test("/join #1obby lands in #lobby; /join #rnain lands in #main: never a second room that looks the same")
    func lookAlikeRooms() async throws {
        let chat = ReviewHub()
        try await chat.login("alice", id: 1)
        let bob = try await chat.login("bob", id: 2)
        #expect(
            await chat.ask(.join(RoomName(parsing: "#main")!), from: 1) == .join(RoomName(parsing: "#main")!, .joined))
        // From #main back to the lobby by its look-alike: bob is in #lobby, not in a new #1obby.
        let reply = await chat.ask(.join(RoomName(parsing: "#1obby")!), from: 1)
        #expect(reply == .join(.lobby, .joined))
        guard case .rooms(let rooms) = await chat.ask(.rooms, from: 1) else {
            Issue.record("not a rooms reply")
            return
        }
        #expect(rooms.entries.map(\.name.value) == ["#lobby"])
        #expect(bob.lines.last == "* alice joined #lobby")

        _ = await chat.ask(.join(RoomName(parsing: "#main")!), from: 2)
        let joined = await chat.ask(.join(RoomName(parsing: "#rnain")!), from: 1)
        #expect(joined == .join(RoomName(parsing: "#main")!, .joined))
        guard case .join(let room, _) = joined else { return }
        #expect(room.value == "#main")
        guard case .users(let users) = await chat.ask(.users(all: true), from: 1) else { return }
        #expect(users.entries.map(\.room.value) == ["#main", "#main"])
        // Already there, by any spelling.
        #expect(
            await chat.ask(.join(RoomName(parsing: "#MAIN")!), from: 1)
                == .join(RoomName(parsing: "#main")!, .alreadyThere))
    }
}
