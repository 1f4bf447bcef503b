import NIOCore
import Testing

@testable import SecureChat

/// The rate limit over real sockets. The limiter's own arithmetic is tested with a fake clock in
/// Policy/RateLimiterTests.swift and Policy/LineThrottleTests.swift; these tests check what a user sees.
///
/// To stay independent of the machine's speed, tests that count exactly use a rate so slow (one line per 20 s)
/// that no token can refill while a burst is processed.
@Suite("Abuse: rate limiting end to end", .timeLimit(.minutes(2)))
struct RateLimitEndToEndTests {
    static let tooFast = "! You are sending too fast"

    @Test("a burst of 50 chat lines delivers exactly the burst; the other 40 are refused with the error")
    func burstDeliversExactlyTheBurst() async throws {
        try await withTestServer({
            $0.ratePerSecond = 0.05
            $0.burst = 10
            $0.floodRefusals = 0  // count refusals without being disconnected
        }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            _ = try await bob.sync()
            try await alice.readUntil { $0 == "* bob joined #lobby" }

            // One write: all 50 lines reach the server together.
            alice.sendRaw(Array((0..<50).map { "line \($0)\n" }.joined().utf8))
            for _ in 0..<40 {
                let line = try #require(try await alice.readLine())
                #expect(line == "! You are sending too fast (limit 0.05 lines/s); that line was dropped. Slow down.")
            }
            // The session answers each line in order, so after the 40th refusal every accepted line is queued for
            // bob: his barrier collects exactly what was delivered.
            #expect(try await bob.sync() == (0..<10).map { "alice: line \($0)" })
            #expect(server.server.counters[.rateLimitedLine] == 40)
            #expect(server.server.counters[.floodDisconnect] == 0)
            // The refused lines are not in history either.
            let carol = try await TestClient.loggedIn("carol", port: server.port)
            let replay = try await carol.sync().filter { $0.contains("alice: line") }
            #expect(replay.count == 10)
            for client in [alice, bob, carol] { await client.close() }
        }
    }

    @Test("chat, DMs and commands all draw on the bucket; login lines do not")
    func everyKindOfLineCounts() async throws {
        try await withTestServer({
            $0.ratePerSecond = 0.05
            $0.burst = 3
            $0.floodRefusals = 0
        }) { server in
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let alice = try await TestClient.connect(port: server.port)
            try await alice.readUntil { $0.hasPrefix("* Choose a username") }
            // Five refused names before the good one: login is not rate-limited, and does not spend tokens.
            alice.sendRaw(Array("a b\n:x\nserver\nbob\nBOB\nalice\n".utf8))
            try await alice.readUntil { $0 == "* End of history." }
            try await bob.readUntil { $0 == "* alice joined #lobby" }

            alice.sendRaw(Array("chat\n/msg bob dm\n/ping\n/ping\n/msg bob dm2\nchat2\n".utf8))
            #expect(try await alice.readLine() == "[dm -> bob] dm")
            #expect(try await alice.readLine() == "* pong")
            for _ in 0..<3 {
                #expect(try await alice.readLine()?.hasPrefix(Self.tooFast) == true)
            }
            #expect(try await bob.sync() == ["alice: chat", "[dm] alice: dm"])
            #expect(server.server.counters[.rateLimitedLine] == 3)
            await alice.close()
            await bob.close()
        }
    }

    @Test("after a refusal, waiting lets the client send again")
    func recoversAfterWaiting() async throws {
        try await withTestServer({
            $0.ratePerSecond = 5
            $0.burst = 2
            $0.floodRefusals = 0
        }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            _ = try await bob.sync()
            try await alice.readUntil { $0 == "* bob joined #lobby" }

            // 50 pings at once: every one is answered, by "* pong" or by the error, so the answers can be counted
            // whatever the machine's speed. At 5 lines/s, 50 lines cannot all be accepted unless they took 9.6 s.
            alice.sendRaw(Array(String(repeating: "/ping\n", count: 50).utf8))
            var refused = 0
            for _ in 0..<50 {
                let line = try #require(try await alice.readLine())
                if line != "* pong" {
                    #expect(line == "! You are sending too fast (limit 5 lines/s); that line was dropped. Slow down.")
                    refused += 1
                }
            }
            #expect(refused > 0)
            #expect(server.server.counters[.rateLimitedLine] == refused)

            // Poll until a line is accepted again (no assertion on how long that takes). A DM answers either way:
            // with its confirmation when accepted, with the error when refused.
            var attempt = 0
            try await eventually("the bucket to refill") {
                attempt += 1
                alice.send("/msg bob back \(attempt)")
                let answer = try #require(try await alice.readLine())
                if answer == "[dm -> bob] back \(attempt)" { return true }
                #expect(answer.hasPrefix(Self.tooFast))
                try await Task.sleep(for: .milliseconds(100))
                return false
            }
            #expect(try await bob.readLine() == "[dm] alice: back \(attempt)")
            await alice.close()
            await bob.close()
        }
    }

    @Test("sustained flooding disconnects with a reason, and the room is told why")
    func floodingDisconnects() async throws {
        try await withTestServer({
            $0.ratePerSecond = 0.05
            $0.burst = 1
            $0.floodRefusals = 5
            $0.floodWindow = .seconds(600)
        }) { server in
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            try await alice.readUntil { $0 == "* End of history." }
            try await bob.readUntil { $0 == "* alice joined #lobby" }
            // Exactly six lines: one accepted, four refused, the fifth refusal disconnects. (Nothing is left unread
            // on the server side, so its close is a FIN, not a reset that could eat the last lines.)
            alice.sendRaw(Array((1...6).map { "flood \($0)\n" }.joined().utf8))
            let lines = try await alice.readToEnd()
            #expect(lines.count == 5)
            #expect(lines.prefix(4).allSatisfy { $0.hasPrefix(Self.tooFast) })
            #expect(lines.last == "! Disconnected for flooding.")
            #expect(try await bob.readLine() == "alice: flood 1")
            #expect(try await bob.readLine() == "* alice left #lobby (flooding)")
            #expect(server.server.counters[.floodDisconnect] == 1)
            #expect(server.server.counters[.rateLimitedLine] == 4)
            await bob.close()
        }
    }

    @Test("--rate 0 turns limiting off: 200 lines at once all arrive, burst and flood settings notwithstanding")
    func rateZeroTurnsItOff() async throws {
        try await withTestServer({
            $0.ratePerSecond = 0
            $0.burst = 1
            $0.floodRefusals = 1
        }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            _ = try await bob.sync()
            alice.sendRaw(Array((0..<200).map { "line \($0)\n" }.joined().utf8))
            #expect(try await alice.sync().filter { $0.hasPrefix("!") } == [])
            #expect(try await bob.sync() == (0..<200).map { "alice: line \($0)" })
            #expect(server.server.counters[.rateLimitedLine] == 0)
            await alice.close()
            await bob.close()
        }
    }

    @Test("the defaults (5 lines/s, burst 10, 20 refusals in 10 s) are what the server uses unless told otherwise")
    func defaults() {
        let configuration = Configuration()
        #expect(configuration.ratePerSecond == 5)
        #expect(configuration.burst == 10)
        #expect(configuration.floodRefusals == 20)
        #expect(configuration.floodWindow == .seconds(10))
        #expect(configuration.maximumConnectionsPerAddress == 16)
        #expect(configuration.loginTimeout == .seconds(30))
        #expect(configuration.writeTimeout == .seconds(30))
        #expect(configuration.idleTimeout == nil)
        #expect(configuration.keepalive == .default)
    }
}
