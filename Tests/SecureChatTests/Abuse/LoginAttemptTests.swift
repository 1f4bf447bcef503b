import SecureChat
import Testing

@Suite("Login attempts are bounded")
struct LoginAttemptTests {
    @Test("ten refused names are answered; the next line closes the connection; others are unaffected")
    func tooManyRefusedNames() async throws {
        try await withTestServer { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let guesser = try await TestClient.connect(port: server.port)
            _ = try await guesser.collectUntil { $0.hasPrefix("* Choose a username") }
            for attempt in 1...10 {
                guesser.send(attempt.isMultiple(of: 2) ? "ALICE" : "bad name \(attempt)")
                let refusal = try #require(try await guesser.readLine())
                #expect(refusal.hasPrefix("! "), "attempt \(attempt): \(refusal)")
                #expect(
                    try await guesser.readLine() == "* Choose a username (1-24 characters: letters, digits, _ and -):")
            }
            guesser.send("finally-valid")
            #expect(try await guesser.readToEnd() == ["! Too many refused names; goodbye."])
            #expect(try await alice.sync().allSatisfy { !$0.contains("finally-valid") })
            await alice.close()
        }
    }
}
