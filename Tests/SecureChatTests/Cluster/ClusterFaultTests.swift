import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// What users see when the link to the database fails silently: a proxy between one node and PostgreSQL that
/// stops forwarding or forgets its connections, and the whole database frozen (SIGSTOP). Each test says what
/// the users of both nodes must see, and that nothing committed is lost or doubled.
@Suite(
    "Cluster: silent cuts, forgotten connections, a frozen database",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterFaultTests {
    /// Long enough that the other node does not declare the cut-off one down while a test waits for it to
    /// notice (which takes at most half of it); scaled in a sanitized build.
    static let nodeTimeout = TimeAmount.seconds(6 * SanitizedBuild.timeFactor)
    static let paused = "! Chat is paused"
    static let resumed = "* Chat resumed."

    static func count(_ lines: [String], startingWith prefix: String) -> Int {
        lines.count { $0.hasPrefix(prefix) }
    }

    /// node1 reaches PostgreSQL through a `FaultProxy`, node2 directly.
    static func withProxiedCluster(
        _ body: (TestPostgres, FaultProxy, TestClusterNode, TestClusterNode) async throws -> Void
    ) async throws {
        try await TestPostgres.with { postgres in
            let proxy = try await FaultProxy.start(to: postgres.port)
            var nodes: [TestClusterNode] = []
            let finish = {
                proxy.resume()
                for node in nodes { await node.stop() }
                await proxy.stop()
            }
            do {
                nodes.append(
                    try await TestClusterNode.start("node1", on: postgres, nodeTimeout: nodeTimeout) {
                        $0.cluster?.url =
                            "postgres://\(postgres.user)@127.0.0.1:\(proxy.port)/\(postgres.database)"
                            + "?sslmode=disable"
                    })
                nodes.append(try await TestClusterNode.start("node2", on: postgres, nodeTimeout: nodeTimeout))
                try await body(postgres, proxy, nodes[0], nodes[1])
            } catch {
                await finish()
                throw error
            }
            await finish()
        }
    }

    @Test("a silent cut: the node says once that chat is paused, then resumed, and misses nothing committed")
    func silentCut() async throws {
        try await Self.withProxiedCluster { _, proxy, node1, node2 in
            let alice = try await node1.login("alice")
            let bob = try await node2.login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }

            let cut = ContinuousClock.now
            proxy.cut()
            var aliceSaw = try await alice.collect(within: Self.nodeTimeout) { $0.hasPrefix(Self.paused) }
            let noticed = ContinuousClock.now - cut
            print("silent cut noticed after \(noticed) (node timeout \(Self.nodeTimeout))")
            // Before the other node could declare this one down (it does after a node timeout).
            #expect(noticed < .nanoseconds(Self.nodeTimeout.nanoseconds))
            for line in ["b1", "b2"] { bob.send(line) }
            _ = try await bob.sync()
            let back = ContinuousClock.now
            proxy.resume()

            aliceSaw += try await alice.collect(within: Self.nodeTimeout * 3) { $0 == Self.resumed }
            print("silent cut: chat resumed \(ContinuousClock.now - back) after the path was back")
            alice.send("a1")
            try await bob.readUntil("alice's line after the cut") { $0 == "alice: a1" }
            bob.send("b3")
            aliceSaw += try await alice.collect(within: Self.nodeTimeout) { $0 == "bob: b3" }
            aliceSaw += try await alice.sync()
            #expect(Self.count(aliceSaw, startingWith: Self.paused) == 1, "\(aliceSaw)")
            #expect(Self.count(aliceSaw, startingWith: Self.resumed) == 1, "\(aliceSaw)")
            let fromBob = aliceSaw.filter { $0.hasPrefix("bob: ") }
            #expect(fromBob == ["bob: b1", "bob: b2", "bob: b3"], "\(aliceSaw)")
            let bobSaw = try await bob.sync()
            #expect(Self.count(bobSaw, startingWith: "* alice left") == 0, "\(bobSaw)")
        }
    }

    @Test("connections forgotten on the way (a NAT's timeout): the node reconnects, and chat across nodes is back")
    func forgottenConnections() async throws {
        try await Self.withProxiedCluster { _, proxy, node1, node2 in
            let alice = try await node1.login("alice")
            let bob = try await node2.login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }

            let forgotten = ContinuousClock.now
            proxy.forgetConnections()
            var aliceSaw = try await alice.collect(within: Self.nodeTimeout) { $0.hasPrefix(Self.paused) }
            aliceSaw += try await alice.collect(within: Self.nodeTimeout * 3) { $0 == Self.resumed }
            print("forgotten connections: chat resumed \(ContinuousClock.now - forgotten) after the fault")
            bob.send("b1")
            aliceSaw += try await alice.collect(within: Self.nodeTimeout) { $0 == "bob: b1" }
            alice.send("a1")
            try await bob.readUntil("alice's line") { $0 == "alice: a1" }
            #expect(Self.count(aliceSaw, startingWith: Self.paused) == 1, "\(aliceSaw)")
        }
    }

    @Test(
        "the whole database frozen (SIGSTOP) for twice the node timeout, one node back later: nobody is disconnected or announced gone"
    )
    func frozenDatabase() async throws {
        try await Self.withProxiedCluster { postgres, proxy, node1, node2 in
            let alice = try await node1.login("alice")
            let bob = try await node2.login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }

            // node1's path stays cut for half a node timeout after the thaw: node2 is back first and finds
            // node1's heartbeat two and a half node timeouts old. It must wait for its own heartbeats to have
            // succeeded for a node timeout before it may declare anyone down.
            proxy.cut()
            try postgres.freeze()
            do {
                try await Task.sleep(for: .nanoseconds(Self.nodeTimeout.nanoseconds * 2))
            } catch {
                try? postgres.thaw()
                throw error
            }
            try postgres.thaw()
            let thawed = ContinuousClock.now
            try await Task.sleep(for: .nanoseconds(Self.nodeTimeout.nanoseconds / 2))
            proxy.resume()

            var saw: [String: [String]] = [:]
            for (name, client) in [("bob", bob), ("alice", alice)] {
                saw[name, default: []] += try await client.collect(within: Self.nodeTimeout * 3) { $0 == Self.resumed }
                print("frozen database: chat resumed for \(name) \(ContinuousClock.now - thawed) after the thaw")
            }
            // Long enough for a node that wrongly declared the other down to have said so.
            try await Task.sleep(for: .nanoseconds(Self.nodeTimeout.nanoseconds + 2_000_000_000))
            bob.send("after the freeze")
            saw["alice", default: []] += try await alice.collect(within: Self.nodeTimeout) {
                $0 == "bob: after the freeze"
            }
            alice.send("/users all")
            let users = try await alice.readUntil("/users all") { $0.hasPrefix("* ") && $0.contains("online") }
            #expect(users.hasPrefix("* 2 users online"), "\(users)")
            saw["bob", default: []] += try await bob.sync()
            for (name, lines) in saw {
                let left = lines.filter { $0.contains(" left #lobby") }
                #expect(left.isEmpty, "\(name) saw \(lines)")
                #expect(Self.count(lines, startingWith: Self.paused) == 1, "\(name) saw \(lines)")
            }
        }
    }

    @Test(
        "cut off for longer than the node timeout: the node is out, refuses chat, and nothing it queued is committed after it was declared down"
    )
    func declaredDownWhileCut() async throws {
        try await Self.withProxiedCluster { _, proxy, node1, node2 in
            let bob = try await node2.login("bob")
            let alice = try await node1.login("alice")
            let carol = try await node1.login("carol")
            try await bob.readUntil("carol's arrival") { $0 == "* carol joined #lobby" }

            proxy.cut()
            // Queued while node1 still believes in its link: carol's departure.
            carol.send("/quit")
            _ = try await carol.readToEnd()
            _ = try await alice.collect(within: Self.nodeTimeout) { $0.hasPrefix(Self.paused) }
            alice.send("ghost line")
            let refused = try await alice.sync()
            #expect(Self.count(refused, startingWith: "! ") > 0, "\(refused)")
            var bobSaw = try await bob.collect(within: Self.nodeTimeout * 3) {
                $0 == "* alice left #lobby (server lost)"
            }
            proxy.resume()

            // node1 finds it was declared down: alice is told and closed.
            let end = try await alice.readToEnd()
            #expect(!end.isEmpty)
            // node1 rejoins under a new incarnation; a login there works again.
            var again: TestClient?
            for _ in 0..<100 where again == nil {
                again = try? await node1.login("dave")
                if again == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let dave = try #require(again)
            bobSaw += try await bob.collect(within: Self.nodeTimeout) { $0 == "* dave joined #lobby" }
            dave.send("d1")
            bobSaw += try await bob.collect(within: Self.nodeTimeout) { $0 == "dave: d1" }
            bobSaw += try await bob.sync()
            #expect(!bobSaw.contains("alice: ghost line"), "\(bobSaw)")
            #expect(Self.count(bobSaw, startingWith: "* carol left #lobby") == 1, "\(bobSaw)")
        }
    }
}

extension TestClient {
    /// Reads lines until one matches, each within `timeout` (for waits longer than the failsafe); returns every
    /// line read, the match included.
    func collect(within timeout: TimeAmount, _ matches: (String) -> Bool) async throws -> [String] {
        var lines: [String] = []
        while true {
            guard let line = try await readLine(timeout: timeout) else {
                throw TestTimeout(waitingFor: "a matching line (EOF) after \(lines.suffix(5))")
            }
            lines.append(line)
            if matches(line) { return lines }
        }
    }
}
