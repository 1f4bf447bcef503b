import Testing
import SecureChat

@Suite("Chat flow over real sockets")
struct ChatFlowTests {
    @Test("two clients chat: no echo, join and leave notices")
    func twoClientsChat() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            try await alice.readUntil { $0 == "* bob joined #lobby" }
            let replay = try await bob.sync()
            #expect(replay.contains { $0.hasSuffix("] * alice joined #lobby") })
            bob.send("hello alice")
            #expect(try await alice.readLine() == "bob: hello alice")
            // No echo: bob's next line is the answer to his barrier, not his own chat line.
            #expect(try await bob.sync() == [])
            await bob.close()
            #expect(try await alice.readLine() == "* bob left #lobby (connection closed)")
            await alice.close()
        }
    }
}
