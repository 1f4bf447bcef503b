import Logging
import NIOCore
import SecureChat
import Testing

@Suite("Hub with in-memory outboxes")
struct HubTests {
    private static func quietLogger() -> Logger {
        var logger = Logger(label: "hub-test")
        logger.logLevel = .critical
        return logger
    }

    private let hub = Hub(configuration: HubConfiguration(historyLines: 50), logger: quietLogger())
    private var nextID: UInt64 = 0

    private func info(_ id: UInt64) -> ClientInfo {
        ClientInfo(id: ConnectionID(id), address: "127.0.0.1", transport: .plaintext, connectedAt: .now())
    }

    /// Logs `name` in as connection `id`; returns its outbox.
    @discardableResult
    private func login(_ name: String, id: UInt64, capacity: Int? = nil) async throws -> MemoryOutbox {
        let outbox = MemoryOutbox(capacity: capacity)
        let outcome = await hub.login(info(id), name: try Username.validate(name).get(), outbox: outbox)
        try #require(outcome != .nameTaken, "\(name) could not log in")
        return outbox
    }

    @Test("the first login is welcomed as operator, with no history")
    func firstLogin() async throws {
        let alice = try await login("alice", id: 1)
        #expect(
            alice.lines == [
                "* Welcome, alice! You are in #lobby with 0 others. Type /help for commands.",
                "* You are an operator.",
            ])
        #expect(await hub.onlineCount == 1)
    }

    @Test("login: welcome, then the history replay, then live lines; others see the join notice")
    func loginReplayAndJoinOrder() async throws {
        let alice = try await login("alice", id: 1)
        await hub.say(ConnectionID(1), "first")
        alice.clear()
        let bob = try await login("bob", id: 2)
        await hub.say(ConnectionID(1), "second")
        let lines = bob.lines
        try #require(lines.count == 6, "\(lines)")
        #expect(lines[0] == "* Welcome, bob! You are in #lobby with 1 other. Type /help for commands.")
        #expect(lines[1] == "* Last 2 lines of #lobby:")
        #expect(ReplayMark.strip(lines[2]) == "* alice joined #lobby")
        #expect(ReplayMark.strip(lines[3]) == "alice: first")
        #expect(lines[4] == "* End of history.")
        #expect(lines[5] == "alice: second")
        #expect(alice.lines == ["* bob joined #lobby"])
    }

    @Test("names are unique ignoring case")
    func nameTaken() async throws {
        try await login("Alice", id: 1)
        let outcome = await hub.login(info(2), name: try Username.validate("aLICE").get(), outbox: MemoryOutbox())
        #expect(outcome == .nameTaken)
        #expect(await hub.onlineCount == 1)
    }

    @Test("chat goes to everyone in the room but the sender")
    func noEcho() async throws {
        let alice = try await login("alice", id: 1)
        let bob = try await login("bob", id: 2)
        let carol = try await login("carol", id: 3)
        for outbox in [alice, bob, carol] { outbox.clear() }
        await hub.say(ConnectionID(2), "hi all")
        #expect(alice.lines == ["bob: hi all"])
        #expect(carol.lines == ["bob: hi all"])
        #expect(bob.lines == [])
        #expect(await hub.messagesSent(by: ConnectionID(2)) == 1)
    }

    @Test("DMs reach the recipient and confirm to the sender, and never enter history")
    func directMessages() async throws {
        let alice = try await login("alice", id: 1)
        let bob = try await login("bob", id: 2)
        let carol = try await login("carol", id: 3)
        for outbox in [alice, bob, carol] { outbox.clear() }
        #expect(await hub.directMessage(from: ConnectionID(1), to: "BOB", "secret") == .sent)
        #expect(bob.lines == ["[dm] alice: secret"])
        #expect(alice.lines == ["[dm -> bob] secret"])
        #expect(carol.lines == [])
        #expect(await hub.directMessage(from: ConnectionID(1), to: "alice", "me") == .toSelf)
        #expect(await hub.directMessage(from: ConnectionID(1), to: "nobody-here", "x") == .noSuchUser)
        let dave = try await login("dave", id: 4)
        #expect(!dave.lines.contains { $0.contains("secret") })
        #expect(dave.lines.contains { ReplayMark.strip($0) == "* carol joined #lobby" })
    }

    @Test("a recipient whose outbox overflows is evicted in the same step; the others are told why")
    func overflowEviction() async throws {
        let alice = try await login("alice", id: 1)
        let bob = try await login("bob", id: 2)
        // carol's outbox takes her login lines (welcome + replay of 4 lines) and 3 more.
        let carol = try await login("carol", id: 3, capacity: 5 + 3)
        alice.clear()
        bob.clear()
        for number in 1...10 { await hub.say(ConnectionID(1), "line \(number)") }
        #expect(carol.overflows == 1)
        #expect(carol.lines.suffix(3) == ["alice: line 1", "alice: line 2", "alice: line 3"])
        #expect(await hub.onlineCount == 2)
        let expected =
            [
                "alice: line 1", "alice: line 2", "alice: line 3", "alice: line 4",
                "* carol left #lobby (send queue overflow)",
            ]
            + (5...10).map { "alice: line \($0)" }
        #expect(bob.lines == expected)
        #expect(alice.lines == ["* carol left #lobby (send queue overflow)"])
        #expect(await hub.currentStatistics().overflowEvictions == 1)
        // Her name is free again.
        try await login("carol", id: 4)
    }

    @Test("history keeps the order live recipients saw when a chat line evicts someone")
    func historyOrderAfterEviction() async throws {
        let alice = try await login("alice", id: 1)
        let bob = try await login("bob", id: 2)
        try await login("carol", id: 3, capacity: 5)
        bob.clear()
        await hub.say(ConnectionID(1), "evicting line")
        #expect(bob.lines == ["alice: evicting line", "* carol left #lobby (send queue overflow)"])
        _ = alice
        let dave = try await login("dave", id: 4)
        let replayed = dave.lines.compactMap(ReplayMark.strip).suffix(2)
        #expect(Array(replayed) == ["alice: evicting line", "* carol left #lobby (send queue overflow)"])
    }

    @Test("two outboxes overflowing on the same line are both evicted, each announced once")
    func doubleOverflow() async throws {
        let alice = try await login("alice", id: 1)
        let first = try await login("slow1", id: 2, capacity: 6)
        let second = try await login("slow2", id: 3, capacity: 6)
        alice.clear()
        for number in 1...10 { await hub.say(ConnectionID(1), "line \(number)") }
        #expect(first.overflows == 1)
        #expect(second.overflows == 1)
        #expect(await hub.onlineCount == 1)
        let leaves = alice.lines.filter { $0.hasPrefix("* slow") }
        #expect(
            leaves.sorted() == [
                "* slow1 left #lobby (send queue overflow)", "* slow2 left #lobby (send queue overflow)",
            ])
    }

    @Test("disconnect is idempotent, and unknown ids are ignored")
    func idempotentDisconnect() async throws {
        let alice = try await login("alice", id: 1)
        try await login("bob", id: 2)
        alice.clear()
        await hub.remove(ConnectionID(2), reason: .quit(message: nil))
        await hub.remove(ConnectionID(2), reason: .connectionClosed)
        await hub.remove(ConnectionID(99), reason: .connectionClosed)
        #expect(alice.lines == ["* bob left #lobby (quit)"])
        #expect(await hub.onlineCount == 1)
        // Lines from a gone connection are dropped, not delivered.
        await hub.say(ConnectionID(2), "ghost")
        #expect(alice.lines == ["* bob left #lobby (quit)"])
    }

    @Test("leave notices enter history; a newcomer sees who came and went, in order")
    func leaveInHistory() async throws {
        try await login("alice", id: 1)
        try await login("bob", id: 2)
        await hub.remove(ConnectionID(2), reason: .quit(message: "bye"))
        let carol = try await login("carol", id: 3)
        let replayed = carol.lines.compactMap(ReplayMark.strip)
        #expect(replayed == ["* alice joined #lobby", "* bob joined #lobby", "* bob left #lobby (quit: \"bye\")"])
    }

    @Test("history keeps the last 50 lines: the 51st pushes the oldest out")
    func historyCapacity() async throws {
        try await login("alice", id: 1)
        for number in 1...51 { await hub.say(ConnectionID(1), "n\(number)") }
        // 52 lines were stored (alice's join notice, n1...n51): the two oldest are gone.
        let bob = try await login("bob", id: 2)
        let replayed = bob.lines.compactMap(ReplayMark.strip)
        #expect(replayed == (2...51).map { "alice: n\($0)" })
        #expect(bob.lines.contains("* Last 50 lines of #lobby:"))
    }

    @Test("a newcomer whose outbox overflows during the history replay is evicted in that step")
    func replayOverflow() async throws {
        let alice = try await login("alice", id: 1)
        for number in 1...20 { await hub.say(ConnectionID(1), "n\(number)") }
        alice.clear()
        let bob = try await login("bob", id: 2, capacity: 5)
        #expect(bob.overflows == 1)
        #expect(await hub.onlineCount == 1)
        #expect(await hub.currentStatistics().overflowEvictions == 1)
        #expect(alice.lines.contains("* bob left #lobby (send queue overflow)"))
    }
}
