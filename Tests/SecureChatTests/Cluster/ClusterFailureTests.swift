import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// What users see when part of the cluster fails: a node killed outright, and the database stopped for a
/// while under a steady chat.
@Suite(
    "Cluster: a node that dies, a database that drops",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterFailureTests {
    @Test("kill -9 of a node: the others announce its users as lost within node-timeout + 2 s, and free their names")
    func killedNode() async throws {
        // The node timeout and the bound on the notice (node timeout + 2 s) are scaled in a sanitized build, whose
        // heartbeats and sweeps run slower.
        let nodeTimeout = 2 * SanitizedBuild.timeFactor
        try await TestPostgres.with { postgres in
            let node = try await TestClusterNode.start(
                "survivor", on: postgres, nodeTimeout: .seconds(nodeTimeout))
            do {
                let set = TestCertificates.set
                try await withDaemon(arguments: [
                    "--cert", set.certificatePath, "--key", set.privateKeyPath, "--cluster", postgres.url,
                    "--node-name", "doomed", "--node-timeout", "\(nodeTimeout)", "--incarnation-file",
                    "\(postgres.directory)/doomed.incarnation",
                ]) { doomed in
                    let alice = try await node.login("alice")
                    let bob = try await TestClient.loggedIn("bob", port: doomed.plaintextPort)
                    try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }

                    let killed = ContinuousClock.now
                    doomed.signal(SIGKILL)
                    _ = try await doomed.waitForExit()
                    try await alice.readUntil("bob's departure") { $0 == "* bob left #lobby (server lost)" }
                    let noticed = ContinuousClock.now - killed
                    #expect(
                        noticed < SanitizedBuild.scaled(.seconds(4)), "the leave notice came \(noticed) after the kill")
                    await bob.close()

                    // The name is free again, on the surviving node.
                    let bobAgain = try await node.login("bob")
                    alice.send("/users all")
                    let users = try await alice.readUntil("/users all") { $0.hasPrefix("* ") && $0.contains("online") }
                    #expect(users == "* 2 users online: alice #lobby [op] [plaintext], bob #lobby [plaintext]")
                    await bobAgain.close()
                }
            } catch {
                await node.stop()
                throw error
            }
            await node.stop()
        }
    }

    /// What one chatting client saw: the other's lines, and what it was told about its own.
    struct Transcript: Sendable {
        var received: [String] = []
        var refused: Set<String> = []
        var uncertain: Set<String> = []
        var sent: [String] = []
        var notices: [String] = []
    }

    /// Sends numbered lines, each followed by `/ping`, so that what the server said about each line is known
    /// before the next: refused (not delivered), uncertain, or nothing (committed).
    static func chat(
        _ client: TestClient, prefix: String, other: String, lines: Int
    ) async throws -> Transcript {
        var transcript = Transcript()
        for number in 0..<lines {
            let line = "\(prefix)\(number)"
            client.send(line)
            transcript.sent.append(line)
            // The pong waits for the line's commit or refusal: a line sent as the database stops can take two
            // 5 s deadlines, and a loaded machine (the whole suite in parallel) more; this test is about what
            // arrives, not how fast, so it waits generously.
            client.send("/ping")
            var replies = try await client.collect(within: .seconds(60)) { $0 == "* pong" }
            replies.removeLast()
            for reply in replies {
                if reply.hasPrefix("\(other): ") {
                    transcript.received.append(String(reply.dropFirst(other.count + 2)))
                } else if reply.hasSuffix("What you sent was not delivered.") {
                    transcript.refused.insert(line)
                } else if reply.hasSuffix("it may not have been sent.") {
                    transcript.uncertain.insert(line)
                } else {
                    transcript.notices.append(reply)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return transcript
    }

    @Test(
        "PostgreSQL stopped for 5 s under a steady chat: nothing committed is lost or duplicated, senders of refused lines are told"
    )
    func databaseOutage() async throws {
        try await withTestCluster(named: "outage", nodeTimeout: .seconds(3)) { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob", tls: true)
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }

            async let outage: Void = {
                try await Task.sleep(for: .seconds(2))
                try await postgres.pause()
                try await Task.sleep(for: .seconds(5))
                try await postgres.resume()
            }()
            async let fromAlice = Self.chat(alice, prefix: "a", other: "bob", lines: 80)
            async let fromBob = Self.chat(bob, prefix: "b", other: "alice", lines: 80)
            var (aliceSaw, bobSaw) = try await (fromAlice, fromBob)
            try await outage

            // The last words, sent until they go through, tell each side when it has everything.
            var tails: [String: [String]] = ["alice": [], "bob": []]
            for (client, name, word) in [(alice, "alice", "a-end"), (bob, "bob", "b-end")] {
                for _ in 0..<100 {
                    client.send(word)
                    client.send("/ping")
                    var replies = try await client.collect(within: .seconds(60)) { $0 == "* pong" }
                    replies.removeLast()
                    tails[name, default: []] += replies
                    if !replies.contains(where: { $0.hasPrefix("! ") }) { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            for (client, name, other, word) in [(alice, "alice", "bob", "b-end"), (bob, "bob", "alice", "a-end")] {
                if !tails[name, default: []].contains("\(other): \(word)") {
                    tails[name, default: []] += try await client.collect(within: .seconds(60)) {
                        $0 == "\(other): \(word)"
                    }
                }
                let lines = tails[name, default: []].filter { $0.hasPrefix("\(other): ") && !$0.hasSuffix("-end") }
                    .map { String($0.dropFirst(other.count + 2)) }
                let notices = tails[name, default: []].filter { $0.hasPrefix("* ") || $0.hasPrefix("! ") }
                if name == "alice" {
                    aliceSaw.received += lines
                    aliceSaw.notices += notices
                } else {
                    bobSaw.received += lines
                    bobSaw.notices += notices
                }
            }

            for (receiver, sender) in [(aliceSaw, bobSaw), (bobSaw, aliceSaw)] {
                #expect(receiver.received.count == Set(receiver.received).count, "duplicates: \(receiver.received)")
                let received = Set(receiver.received)
                let committed = Set(sender.sent).subtracting(sender.refused).subtracting(sender.uncertain)
                #expect(committed.subtracting(received).isEmpty, "lost: \(committed.subtracting(received).sorted())")
                #expect(received.intersection(sender.refused).isEmpty, "refused yet delivered")
                #expect(!sender.refused.isEmpty || !sender.uncertain.isEmpty, "nothing was refused during the outage")
                #expect(receiver.notices.contains { $0.hasPrefix("! Chat is paused") })
                #expect(receiver.notices.contains("* Chat resumed."))
                // Delivered in the order sent.
                let order = receiver.received.compactMap { Int($0.dropFirst()) }
                #expect(order == order.sorted())
            }
        }
    }
}
