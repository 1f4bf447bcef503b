import SecureChat
import Testing

extension EndToEnd {
    @Suite("History replay")
    struct HistoryReplayTests {
        @Test("a late joiner gets the last 50 lines in order, each marked [HH:MM:SS]; the 51st pushed the oldest out")
        func lastFifty() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                // alice's join notice, then 51 chat lines: 52 lines for 50 places.
                for number in 1...51 { alice.send("line \(number)") }
                _ = try await alice.sync()
                let bob = try await server.login("bob")
                let lines = try await bob.sync()
                try #require(lines.count == 52, "\(lines)")
                #expect(lines.first == "* Last 50 lines of #lobby:")
                #expect(lines.last == "* End of history.")
                let replayed = lines.dropFirst().dropLast()
                #expect(replayed.allSatisfy { ReplayMark.strip($0) != nil }, "unmarked replay line")
                #expect(replayed.compactMap(ReplayMark.strip) == (2...51).map { "alice: line \($0)" })
                // Live lines after the replay are not marked.
                alice.send("live")
                #expect(try await bob.readLine() == "alice: live")
            }
        }

        @Test("join and leave notices are history; DMs and command output never are")
        func whatIsStored() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                alice.send("/msg bob the secret")
                bob.send("/msg alice the other secret")
                alice.send("/users")
                alice.send("/stats")
                alice.send("public")
                _ = try await alice.sync()
                _ = try await bob.sync()
                bob.send("/quit bye")
                _ = try await bob.readToEnd()
                try await alice.readUntil { $0.hasPrefix("* bob left") }
                let carol = try await server.login("carol")
                let replayed = try await carol.sync().compactMap(ReplayMark.strip)
                #expect(
                    replayed == [
                        "* alice joined #lobby", "* bob joined #lobby", "alice: public",
                        "* bob left #lobby (quit: \"bye\")",
                    ])
            }
        }

        @Test("no history, no replay block")
        func emptyHistory() async throws {
            try await withTestServer({ $0.historyLines = 0 }) { server in
                let alice = try await server.login("alice")
                alice.send("not kept")
                _ = try await alice.sync()
                let bob = try await server.login("bob")
                #expect(try await bob.sync() == [])
            }
        }
    }
}
