import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// Several nodes on one throwaway PostgreSQL, as users see them: one chat, whichever node they reach.
@Suite(
    "Cluster: several nodes, one chat",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterChatTests {
    /// Sends `/stats` until the cluster line shows `nodes` up (heartbeats count them a moment after start).
    static func waitForNodes(_ nodes: Int, _ client: TestClient) async throws -> String {
        for _ in 0..<50 {
            client.send("/stats")
            let line = try await client.readUntil { $0.hasPrefix("* Cluster:") }
            if line.hasSuffix("\(nodes) nodes up.") { return line }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestTimeout(waitingFor: "\(nodes) nodes up")
    }

    @Test("chat, /users all, /whois, /rooms, /msg and /stats across two nodes, one user on each transport")
    func crossNodeChat() async throws {
        try await withTestCluster { _, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob", tls: true)
            try await alice.readUntil("step 1") { $0 == "* bob joined #lobby" }

            alice.send("hello bob")
            try await bob.readUntil("step 2") { $0 == "alice: hello bob" }
            bob.send("hi alice")
            try await alice.readUntil("step 3") { $0 == "bob: hi alice" }

            bob.send("/users all")
            let users = try await bob.readUntil("/users all") { $0.hasPrefix("* 2 users") }
            #expect(users == "* 2 users online: alice #lobby [op] [plaintext], bob #lobby")
            bob.send("/whois alice")
            let whois = try await bob.readUntil("step 5") { $0.hasPrefix("* alice") }
            #expect(whois.hasPrefix("* alice (operator): in #lobby, connected since "))
            // Accounts are on in a cluster: alice has not registered her name.
            #expect(whois.hasSuffix("over plaintext; not registered."))

            alice.send("/msg BOB psst")
            let sent = try await alice.readUntil("the DM's confirmation") { $0.hasPrefix("[dm") }
            #expect(sent == "[dm -> bob] psst")
            let received = try await bob.readUntil("the DM") { $0.hasPrefix("[dm") }
            #expect(received == "[dm] alice: psst")

            bob.send("/join #side")
            try await alice.readUntil("step 8") { $0 == "* bob left #lobby (joined #side)" }
            alice.send("/rooms")
            let rooms = try await alice.readUntil("/rooms") { $0.hasPrefix("* 2 rooms") }
            #expect(rooms == "* 2 rooms: #lobby (1), #side (1)")

            #expect(try await Self.waitForNodes(2, alice) == "* Cluster: you are on node node1; 2 nodes up.")
            #expect(try await Self.waitForNodes(2, bob) == "* Cluster: you are on node node2; 2 nodes up.")
        }
    }

    @Test("joining a room while others chat in it from both nodes: every line exactly once, replayed or live")
    func exactlyOnceJoin() async throws {
        let lines = 150
        try await withTestCluster(configure: {
            $0.historyLines = 400
            $0.outboxBytes = 1 << 24
        }) { _, nodes in
            let alice = try await nodes[0].login("alice")
            let carol = try await nodes[1].login("carol")
            alice.send("/join #busy")
            carol.send("/join #busy")
            _ = try await alice.readUntil { $0.hasPrefix("* You joined #busy") }
            _ = try await carol.readUntil { $0.hasPrefix("* You joined #busy") }
            let dave = try await nodes[0].login("dave")
            let erin = try await nodes[1].login("erin")

            try await withThrowingTaskGroup(of: Void.self) { group in
                for (client, prefix) in [(alice, "a"), (carol, "c")] {
                    group.addTask {
                        for number in 0..<lines { client.send("\(prefix)\(number)") }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(20))
                    dave.send("/join #busy")
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(40))
                    erin.send("/join #busy")
                }
                try await group.waitForAll()
            }

            for joiner in [dave, erin] {
                var seen: [String: Int] = [:]
                while seen["alice: a\(lines - 1)", default: 0] == 0 || seen["carol: c\(lines - 1)", default: 0] == 0 {
                    guard let line = try await joiner.readLine() else {
                        throw TestTimeout(waitingFor: "the last lines")
                    }
                    // A replayed line carries its time: `[HH:MM:SS] alice: a7`.
                    let text = line.hasPrefix("[") ? String(line.drop { $0 != "]" }.dropFirst(2)) : line
                    if text.hasPrefix("alice: ") || text.hasPrefix("carol: ") { seen[text, default: 0] += 1 }
                }
                let expected = (0..<lines).flatMap { ["alice: a\($0)", "carol: c\($0)"] }
                #expect(
                    seen.filter { $0.value != 1 }.isEmpty, "lines seen more than once: \(seen.filter { $0.value != 1 })"
                )
                #expect(
                    Set(seen.keys) == Set(expected),
                    "missing: \(Set(expected).subtracting(seen.keys).sorted().prefix(10))")
            }
        }
    }

    @Test("two nodes logging in one name (or a look-alike) at the same moment: exactly one wins, every time")
    func sameNameRace() async throws {
        try await withTestCluster { _, nodes in
            // A round refused by a node whose link paused (a loaded machine can miss a heartbeat deadline) decided
            // nothing: it is run again under new names, until 12 rounds have raced.
            var raced = 0
            for round in 0..<40 where raced < 12 {
                let first = try await TestClient.connect(port: nodes[0].port)
                let second = try await TestClient.connect(port: nodes[1].port)
                nodes[0].server.track(first)
                nodes[1].server.track(second)
                try await first.readUntil { $0.hasPrefix("* Choose a username") }
                try await second.readUntil { $0.hasPrefix("* Choose a username") }
                // Odd rounds race look-alikes: `l00p3` and `loop3` share a skeleton.
                first.send(round % 2 == 0 ? "racer\(round)" : "l00p\(round)")
                second.send(round % 2 == 0 ? "racer\(round)" : "loop\(round)")
                let answers = [
                    try await first.readUntil { $0.hasPrefix("* Welcome") || $0.hasPrefix("! ") },
                    try await second.readUntil { $0.hasPrefix("* Welcome") || $0.hasPrefix("! ") },
                ]
                if answers.contains(where: { $0.hasPrefix("! Chat is paused") }) {
                    #expect(answers.filter { $0.hasPrefix("* Welcome") }.count <= 1, "round \(round): \(answers)")
                    continue
                }
                raced += 1
                #expect(answers.filter { $0.hasPrefix("* Welcome") }.count == 1, "round \(round): \(answers)")
                #expect(answers.filter { $0.hasSuffix("is taken (names are compared ignoring case).") }.count == 1)
            }
            #expect(raced == 12)
        }
    }

    @Test("a kick and a ban by an operator on one node reach a user on the other; the ban refuses at accept there")
    func moderationAcrossNodes() async throws {
        try await withTestCluster { _, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob", from: "127.0.0.2")
            try await alice.readUntil { $0 == "* bob joined #lobby" }
            alice.send("/kick bob enough")
            let kicked = try await bob.readToEnd()
            #expect(kicked.last == "! You were kicked by alice: \"enough\"")
            try await alice.readUntil("the kick notice") { $0 == "* bob was kicked by alice (\"enough\")" }

            let carol = try await nodes[1].login("carol", from: "127.0.0.3")
            try await alice.readUntil { $0 == "* carol joined #lobby" }
            alice.send("/ban carol spam")
            let banned = try await carol.readToEnd()
            #expect(banned.last == "! You were banned by alice: \"spam\"")
            // Node 2 refuses carol's address at accept, before any greeting.
            var refused: [String] = []
            for _ in 0..<50 {
                refused = try await ModerationTests.refusedAtAccept(port: nodes[1].port, from: "127.0.0.3")
                if refused == [ModerationTests.addressBanned] { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(refused == [ModerationTests.addressBanned])
            // And her name, from elsewhere, on both nodes.
            for node in nodes {
                let other = try await TestClient.connect(port: node.port, from: "127.0.0.4")
                node.server.track(other)
                try await other.readUntil { $0.hasPrefix("* Choose a username") }
                other.send("Carol")
                let refusal = try await other.readLine()
                #expect(refusal == "! The name Carol is not available; choose another.")
            }
        }
    }

    @Test("lines sent in one go share commits, and reach the other node exactly once and in order")
    func pipelinedLines() async throws {
        // History above the 200 lines: a listener reconnect in the middle of the burst (a probe heard late on a
        // loaded machine) must catch them all up, not skip ahead past `--history` lines as it rightly would.
        try await withTestCluster(configure: {
            $0.historyLines = 250
            $0.outboxBytes = 4 << 20
        }) { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            let count = 200
            alice.sendRaw(Array((1...count).map { "pipelined \($0)\n" }.joined().utf8))
            let received = try await bob.collectUntil { $0 == "alice: pipelined \(count)" }
            #expect(received.filter { $0.hasPrefix("alice: ") } == (1...count).map { "alice: pipelined \($0)" })
            // One transaction per batch: a sender who waited for each commit would have needed 200.
            let transactions = try await ClusterSchemaTests.withClient(postgres) { client in
                try await ClusterSchemaTests.count(
                    """
                    SELECT count(DISTINCT xmin::text)::bigint FROM securechat_events
                    WHERE convert_from(line, 'UTF8') LIKE '%alice: pipelined %'
                    """, client)
            }
            #expect(transactions <= count / 2, "\(count) lines took \(transactions) commits")
        }
    }

    @Test("a room nobody is in is forgotten by every node, and joining it later replays its history from the database")
    func forgottenRoomHistory() async throws {
        try await withTestCluster { _, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            alice.send("/join #memo")
            try await alice.readUntil("the join") { $0.hasPrefix("* You joined #memo") }
            for number in 1...3 { alice.send("memo \(number)") }
            try await bob.readUntil("alice off to #memo") { $0 == "* alice left #lobby (joined #memo)" }
            alice.send("/leave")
            try await bob.readUntil("alice back in #lobby") { $0 == "* alice joined #lobby" }
            #expect(await nodes[0].hub.lastSequences()[RoomName(parsing: "#memo")!] == nil)
            #expect(await nodes[1].hub.roomList().map(\.name.value) == ["#lobby"])

            bob.send("/join #memo")
            let replay = try await bob.collectUntil { $0 == "* End of history." }
            let texts = replay.filter { $0.hasPrefix("[") }.map { String($0.drop { $0 != "]" }.dropFirst(2)) }
            #expect(
                texts == [
                    "* alice joined #memo", "alice: memo 1", "alice: memo 2", "alice: memo 3",
                    "* alice left #memo (joined #lobby)",
                ])
        }
    }

    @Test("history survives a restart of every node")
    func historyAcrossRestart() async throws {
        try await TestPostgres.with { postgres in
            let first = try await TestClusterNode.start("node1", on: postgres)
            let alice = try await first.login("alice")
            for number in 1...3 {
                alice.send("line \(number)")
            }
            alice.send("/quit")
            _ = try await alice.readToEnd()
            await first.stop()

            let second = try await TestClusterNode.start("node2", on: postgres)
            let bob = try await second.login("bob")
            let replay = try await bob.collectUntil { $0 == "* End of history." }
            await second.stop()
            let texts = replay.map { $0.hasPrefix("[") ? String($0.drop { $0 != "]" }.dropFirst(2)) : $0 }
            #expect(texts.contains("alice: line 1"))
            #expect(texts.contains("alice: line 3"))
            #expect(texts.contains("* alice left #lobby (quit)"))
        }
    }

    @Test("two nodes starting at the same moment on an empty database both join, and chat works between them")
    func simultaneousStart() async throws {
        try await TestPostgres.with { postgres in
            async let first = TestClusterNode.start("node1", on: postgres)
            async let second = TestClusterNode.start("node2", on: postgres)
            let nodes = try await [first, second]
            do {
                let alice = try await nodes[0].login("alice")
                let bob = try await nodes[1].login("bob")
                try await alice.readUntil { $0 == "* bob joined #lobby" }
                bob.send("both up")
                try await alice.readUntil { $0 == "bob: both up" }
            } catch {
                for node in nodes { await node.stop() }
                throw error
            }
            for node in nodes { await node.stop() }
        }
    }
}
