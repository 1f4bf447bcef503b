import NIOCore
import Testing

@testable import SecureChat

/// Stale and hostile connections are evicted: stalled readers, connections that never log in, idle users.
/// Timeouts are configured short; no test asserts how long anything took.
@Suite("Abuse: eviction of stalled, silent and idle connections", .timeLimit(.minutes(3)))
struct EvictionTests {
    @Test("a client that stops reading is evicted after the write timeout while the others keep receiving")
    func stalledReaderIsEvicted() async throws {
        try await withTestServer({
            $0.writeTimeout = .milliseconds(500)
            $0.outboxBytes = 1 << 30  // so the eviction is the write timeout's, not an outbox overflow
        }) { server in
            let (stalled, bob, carol) = try await Self.stalledReaderAmongTalkers(port: server.port)

            // Keep talking until the server gives up on the stalled reader; carol reads everything, which proves
            // she keeps receiving meanwhile. Bounded by the failsafe (400 batches of 200 kB).
            let evictionNotice = try await Self.talkUntilStalledLeaves(
                bob: bob, carol: carol, linesPerBatch: 100, filler: "x", maximumBatches: 400
            )
            #expect(evictionNotice == "* stalled left #lobby (write timeout (client stopped reading))")
            #expect(server.server.counters[.writeTimeout] == 1)
            #expect(server.server.counters[.outboxOverflow] == 0)
            // Life goes on for the others.
            bob.send("still here")
            #expect(try await carol.readUntil { $0.hasPrefix("bob: still here") } == "bob: still here")
            carol.send("/users")
            #expect(
                try await carol.readUntil { $0.hasPrefix("* 2 users") }
                    == "* 2 users in #lobby: bob [plaintext], carol [op] [plaintext]")
            // The stalled client's socket was closed by the server: reading again drains it to its end.
            try await stalled.channel.setOption(.autoRead, value: true).get()
            stalled.channel.read()
            _ = try await stalled.readToEnd()
            for client in [bob, carol] { await client.close() }
        }
    }

    @Test("a stalled reader is evicted by the write timeout once the capped send buffer is full, not megabytes later")
    func stalledReaderMeetsTheSendBufferCap() async throws {
        try await withTestServer({
            $0.writeTimeout = .milliseconds(500)
            $0.outboxBytes = 1 << 30  // only the write timeout can evict
        }) { server in
            #expect(server.server.configuration.sendBufferBytes == 128 * 1024)
            let (_, bob, carol) = try await Self.stalledReaderAmongTalkers(port: server.port)

            // About 600 kB for the stalled reader: more than its capped buffer (2 x 128 KiB, the kernel doubles it)
            // and NIO's 64 KiB write watermark, far less than the 4 MiB the kernel would autotune it to without
            // the cap, in which case its socket would stay writable and this client would never be evicted.
            var evictionNotice = try await Self.talkUntilStalledLeaves(
                bob: bob, carol: carol, linesPerBatch: 100, filler: "z", maximumBatches: 3
            )
            if evictionNotice == nil {
                evictionNotice = try await carol.readUntil("the stalled reader's eviction") {
                    $0.hasPrefix("* stalled left #lobby")
                }
            }
            #expect(evictionNotice == "* stalled left #lobby (write timeout (client stopped reading))")
            #expect(server.server.counters[.writeTimeout] == 1)
            for client in [bob, carol] { await client.close() }
        }
    }

    @Test("a stalled reader whose outbox fills is evicted for overflow, long before its write timeout")
    func stalledReaderOverflowsItsOutbox() async throws {
        try await withTestServer({
            $0.writeTimeout = .seconds(600)
            $0.outboxBytes = 64 * 1024
            $0.historyLines = 10  // so the replay fits this small outbox (the configuration check)
        }) { server in
            let (stalled, bob, carol) = try await Self.stalledReaderAmongTalkers(port: server.port)

            // Small batches (20 kB, well under the 64 kB outbox) that carol reads in full before the next one:
            // her outbox never holds more than a batch, while the stalled reader's only grows.
            let evictionNotice = try await Self.talkUntilStalledLeaves(
                bob: bob, carol: carol, linesPerBatch: 10, filler: "y", maximumBatches: 5000
            )
            #expect(evictionNotice == "* stalled left #lobby (send queue overflow)")
            #expect(server.server.counters[.outboxOverflow] == 1)
            #expect(server.server.counters[.writeTimeout] == 0)
            #expect(await server.hub.currentStatistics().overflowEvictions == 1)
            bob.send("still here")
            #expect(try await carol.readUntil { $0.hasPrefix("bob: still here") } == "bob: still here")
            await stalled.close()
            for client in [bob, carol] { await client.close() }
        }
    }

    @Test("a connection that never sends a username is closed at the login timeout")
    func silentConnectionTimesOut() async throws {
        // The greeting must go out within the timeout: scaled in a sanitized build, which is slower (under
        // ThreadSanitizer, with the whole suite starting at once, 1 s once passed before the greeting was sent).
        try await withTestServer({ $0.loginTimeout = SanitizedBuild.scaled(.seconds(1)) }) { server in
            let silent = try await TestClient.connect(port: server.port)
            let lines = try await silent.readToEnd()
            #expect(lines.last?.hasPrefix("* Choose a username") == true)
            #expect(server.server.counters[.loginTimeout] == 1)
            await silent.close()
        }
    }

    @Test("a connection that sends half a username line and stops is closed at the login timeout")
    func halfALineTimesOut() async throws {
        // bob must log in within the timeout, comfortably on a loaded machine: scaled in a sanitized build, which
        // is slower.
        try await withTestServer({ $0.loginTimeout = SanitizedBuild.scaled(.seconds(6)) }) { server in
            // bob logs in first: what must happen before a timeout gets the whole timeout, not what is left.
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let client = try await TestClient.connect(port: server.port)
            try await client.readUntil { $0.hasPrefix("* Choose a username") }
            client.sendRaw(Array("ali".utf8))
            #expect(try await client.readToEnd() == [])
            #expect(server.server.counters[.loginTimeout] == 1)
            // The half line never became a user.
            bob.send("/users all")
            #expect(
                try await bob.readUntil { $0.hasPrefix("* 1 user") } == "* 1 user online: bob #lobby [op] [plaintext]")
            await client.close()
            await bob.close()
        }
    }

    @Test("a bad username does not extend the login timeout")
    func refusedNamesDoNotResetTheTimer() async throws {
        // The refusal must come back within the timeout, comfortably on a loaded machine: scaled in a sanitized
        // build, which is slower.
        try await withTestServer({ $0.loginTimeout = SanitizedBuild.scaled(.seconds(4)) }) { server in
            let client = try await TestClient.connect(port: server.port)
            try await client.readUntil { $0.hasPrefix("* Choose a username") }
            client.send("not valid")
            try await client.readUntil { $0.hasPrefix("! Cannot use that name") }
            _ = try await client.readToEnd()
            #expect(server.server.counters[.loginTimeout] == 1)
        }
    }

    @Test("the login timeout covers the TLS handshake: a TCP connection to the TLS port that never speaks is closed")
    func silentTLSConnectionTimesOut() async throws {
        try await withTestServer({ $0.loginTimeout = .milliseconds(300) }) { server in
            let silent = try await TestClient.connect(port: server.tlsPort)
            #expect(try await silent.readToEnd() == [])
            try await eventually("the login timeout to be counted") { server.server.counters[.loginTimeout] == 1 }
            #expect(server.server.counters[.tlsHandshakeCompleted] == 0)
            await silent.close()
        }
    }

    @Test("a TLS client that completes the handshake but never logs in is closed at the login timeout")
    func silentTLSClientAfterHandshakeTimesOut() async throws {
        // The handshake and the prompt must come within the timeout: scaled in a sanitized build, which is slower.
        try await withTestServer({ $0.loginTimeout = SanitizedBuild.scaled(.seconds(6)) }) { server in
            let client = try await TestClient.connect(port: server.tlsPort, tls: .plain)
            try await client.readUntil { $0.hasPrefix("* Choose a username") }
            _ = try await client.readToEnd()
            #expect(server.server.counters[.loginTimeout] == 1)
            await client.close()
        }
    }

    @Test("500 connections that never log in do not stop a normal client from logging in and chatting")
    func manySilentConnections() async throws {
        FileDescriptorLimit.raiseToHardLimit()
        try await withTestServer({ $0.loginTimeout = .seconds(120) }) { server in
            var silent: [TestClient] = []
            for index in 0..<500 {
                let client = try await TestClient.connect(port: server.port)
                // Half of them send half a username line, the other half nothing at all.
                if index.isMultiple(of: 2) { client.sendRaw(Array("half".utf8)) }
                silent.append(client)
            }
            // All 500 are accepted and held open.
            try await eventually("500 connections admitted") {
                server.server.connectionLimiter.statistics.activeConnections >= 500
            }
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.tlsPort, tls: .plain)
            try await alice.readUntil { $0 == "* bob joined #lobby" }
            bob.send("hello through the crowd")
            #expect(try await alice.readLine() == "bob: hello through the crowd")
            alice.send("/users all")
            #expect(try await alice.readLine() == "* 2 users online: alice #lobby [op] [plaintext], bob #lobby")
            #expect(server.server.counters[.loginTimeout] == 0)
            for client in silent { await client.close() }
            await alice.close()
            await bob.close()
            try await eventually("every connection released") {
                server.server.connectionLimiter.statistics.activeConnections == 0
            }
        }
    }

    @Test("an idle user is warned, then disconnected; the room is told why")
    func idleTimeoutWarnsThenEvicts() async throws {
        // Long enough that the watcher, active every 100 ms, is never idle itself on a loaded machine.
        try await withTestServer({ $0.idleTimeout = .seconds(4) }) { server in
            let idler = try await TestClient.loggedIn("idler", port: server.port)
            let watcher = try await TestClient.loggedIn("watcher", port: server.port)
            // The watcher stays active (each /ping is activity) until the idler's departure reaches it.
            try await eventually("the idler's departure") {
                let lines = try await watcher.sync()
                if lines.contains("* idler left #lobby (idle timeout)") { return true }
                try await Task.sleep(for: .milliseconds(100))
                return false
            }
            let lines = try await idler.readToEnd()
            #expect(
                lines.filter { $0.hasPrefix("* You have been idle") }
                    == ["* You have been idle; you will be disconnected in 2 s unless you send something."]
            )
            #expect(server.server.counters[.idleTimeout] == 1)
            await watcher.close()
        }
    }

    @Test("sending something after the warning keeps the user connected past the original deadline")
    func activityAfterTheWarningResetsTheTimer() async throws {
        // 4 s timeout, warning 2 s before: the reply to the warning has 2 s to arrive, far more than it needs.
        try await withTestServer({ $0.idleTimeout = .seconds(4) }) { server in
            let user = try await TestClient.loggedIn("user", port: server.port)
            try await user.readUntil { $0.hasPrefix("* You have been idle") }
            #expect(try await user.sync() == [])
            // Without the ping the connection would end at the original deadline; with it, the next thing the
            // user hears is a second warning, not the end of the connection.
            let next = try await user.readLine()
            #expect(next == "* You have been idle; you will be disconnected in 2 s unless you send something.")
            _ = try await user.readToEnd()
            #expect(server.server.counters[.idleTimeout] == 1)
        }
    }

    @Test("with no idle timeout configured, nobody is warned or evicted for silence")
    func noIdleTimeoutByDefault() async throws {
        // The login timeout must be long enough to log in on a loaded machine, and the wait longer than it (both
        // scaled in a sanitized build, which is slower).
        try await withTestServer({ $0.loginTimeout = SanitizedBuild.scaled(.seconds(4)) }) { server in
            let user = try await TestClient.loggedIn("user", port: server.port)
            _ = try await user.sync()
            // Longer than the login timeout: a logged-in user is past it and has no idle timer.
            await #expect(throws: TestTimeout.self) {
                try await user.readLine(timeout: SanitizedBuild.scaled(.seconds(5)))
            }
            #expect(try await user.sync() == [])
            #expect(server.server.counters[.idleTimeout] == 0)
            #expect(server.server.counters[.loginTimeout] == 0)
            await user.close()
        }
    }

    /// bob sends batches of 2 kB lines, each ended by a marker that carol reads up to, until carol sees the
    /// stalled client leave (or `maximumBatches` ran out). Returns the leave notice, if one came.
    /// "stalled" logs in and stops reading (its 4 KiB receive buffer makes the stall come sooner; correctness does
    /// not need it); then carol and bob log in, and carol has caught up before the test starts talking.
    private static func stalledReaderAmongTalkers(port: Int) async throws -> (AbuseClient, TestClient, TestClient) {
        let stalled = try await AbuseClient.connect(port: port, receiveBuffer: 4096)
        try await stalled.login("stalled")
        try await stalled.channel.setOption(.autoRead, value: false).get()
        let carol = try await TestClient.loggedIn("carol", port: port)
        let bob = try await TestClient.loggedIn("bob", port: port)
        _ = try await carol.sync()
        return (stalled, bob, carol)
    }

    private static func talkUntilStalledLeaves(
        bob: TestClient,
        carol: TestClient,
        linesPerBatch: Int,
        filler character: Character,
        maximumBatches: Int
    ) async throws -> String? {
        let filler = String(repeating: character, count: 2000)
        var evictionNotice: String?
        var batch = 0
        while evictionNotice == nil, batch < maximumBatches {
            bob.sendRaw(Array((0..<linesPerBatch).map { "\(batch) \($0) \(filler)\n" }.joined().utf8))
            bob.send("end of batch \(batch)")
            while true {
                let line = try #require(try await carol.readLine())
                if line.hasPrefix("* stalled left #lobby") { evictionNotice = line }
                if line == "bob: end of batch \(batch)" { break }
            }
            batch += 1
        }
        return evictionNotice
    }
}
