import Foundation
import Testing

/// SIGHUP re-reads the configuration (issue 25): a change of `rate` reaches the users already online, a change of
/// `port` refuses the whole reload, an invalid file changes nothing; each outcome is counted.
@Suite("securechatd: SIGHUP reloads the configuration", .timeLimit(.minutes(3)))
struct DaemonReloadTests {
    /// The settings file; every version listens on 127.0.0.1 and counts refusals without disconnecting. The rates
    /// are so slow (one line per 20 s, then per 1000 s) that no token comes back while the test runs its steps.
    /// (Every line counts, bob's `/ping` barriers too: bob's budget is enough for them.)
    static func settings(port: Int = 0, rate: String, burst: Int) -> String {
        """
        host: 127.0.0.1
        port: \(port)
        no-tls: true
        metrics-port: 0
        flood-refusals: 0
        rate: \(rate)
        burst: \(burst)
        """
    }

    /// Sends `count` lines in one write; reads alice's `refused` error lines, then what bob received (alice's
    /// session has handled every line once her last refusal arrives, so bob's barrier comes after them).
    private func burst(
        _ count: Int, refused: Int, from alice: TestClient, to bob: TestClient, tag: String
    ) async throws -> (refusals: [String], delivered: Int) {
        alice.sendRaw(Array((0..<count).map { "\(tag) \($0)\n" }.joined().utf8))
        var refusals: [String] = []
        for _ in 0..<refused { refusals.append(try #require(try await alice.readLine())) }
        let delivered = try await bob.sync().filter { $0.hasPrefix("alice: \(tag) ") }.count
        return (refusals, delivered)
    }

    private static func tooFast(_ limit: String, _ count: Int) -> [String] {
        Array(
            repeating: "! You are sending too fast (limit \(limit) lines/s); that line was dropped. Slow down.",
            count: count)
    }

    @Test("a new rate applies to users online; a changed port refuses the reload; an invalid file changes nothing")
    func reloadRateRefusePort() async throws {
        let files = try ConfigurationFiles()
        let path = try files.write("securechat.yaml", Self.settings(rate: "0.05", burst: 2))
        try await withDaemon(arguments: ["--config", path], loopbackListeners: false) { daemon in
            let alice = try await TestClient.loggedIn("alice", port: daemon.plaintextPort)
            let bob = try await TestClient.loggedIn("bob", port: daemon.plaintextPort)
            _ = try await bob.sync()
            try await alice.readUntil { $0 == "* bob joined #lobby" }

            let before = try await burst(4, refused: 2, from: alice, to: bob, tag: "before")
            #expect(before.delivered == 2)
            #expect(before.refusals == Self.tooFast("0.05", 2))

            // rate and burst are reloadable: alice, online since before, gets them at once.
            try files.write("securechat.yaml", Self.settings(rate: "0.001", burst: 5))
            daemon.signal(SIGHUP)
            try await eventually("the reload to be applied") {
                daemon.logLines.contains { $0.contains("configuration reloaded") && $0.contains("rate, burst") }
            }
            let after = try await burst(7, refused: 2, from: alice, to: bob, tag: "after")
            #expect(after.delivered == 5)
            #expect(after.refusals == Self.tooFast("0.001", 2))

            // port is restart-only: the whole reload is refused, the rate in it too, and the key is named.
            try files.write("securechat.yaml", Self.settings(port: 1, rate: "100", burst: 50))
            daemon.signal(SIGHUP)
            try await eventually("the reload to be refused") {
                daemon.logLines.contains { $0.contains("keys=port") && $0.contains("restart-only settings changed") }
            }
            let refused = try await burst(3, refused: 3, from: alice, to: bob, tag: "refused")
            #expect(refused.delivered == 0)
            #expect(refused.refusals == Self.tooFast("0.001", 3))

            // An invalid file: every error logged, nothing applied.
            try files.write("securechat.yaml", Self.settings(rate: "fast", burst: 50) + "\nmax-lien: 1\n")
            daemon.signal(SIGHUP)
            try await eventually("both errors to be logged") {
                daemon.logLines.contains { $0.contains("rate: expected a number >= 0, got \"fast\"") }
                    && daemon.logLines.contains { $0.contains("unknown key max-lien (did you mean max-line?)") }
            }
            let invalid = try await burst(3, refused: 3, from: alice, to: bob, tag: "invalid")
            #expect(invalid.delivered == 0)
            #expect(invalid.refusals == Self.tooFast("0.001", 3))

            // A secret that changes is named, never shown: the cluster URL is restart-only.
            try files.write(
                "securechat.yaml",
                Self.settings(rate: "0.001", burst: 5) + "\ncluster: postgres://chat:hunter2@db/chat\n")
            daemon.signal(SIGHUP)
            try await eventually("the cluster change to be refused") {
                daemon.logLines.contains { $0.contains("keys=cluster") && $0.contains("restart-only settings changed") }
            }
            #expect(!daemon.logLines.contains { $0.contains("hunter2") })

            // The server still serves where it started, and counted each outcome.
            let carol = try await TestClient.loggedIn("carol", port: daemon.plaintextPort)
            let metrics = try await TestClient.connect(port: try #require(daemon.metricsPort))
            metrics.sendRaw(Array("GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8))
            let exposition = try await metrics.readToEnd()
            for (result, count) in [("applied", 1), ("restart_required", 2), ("invalid", 1)] {
                #expect(
                    exposition.contains("securechat_config_reloads_total{result=\"\(result)\"} \(count)"), "\(result)")
            }
            for client in [alice, bob, carol] { await client.close() }
        }
    }

    @Test("log-level is reloadable: a connection's close, logged at info, shows once the level is info")
    func reloadLogLevel() async throws {
        let files = try ConfigurationFiles()
        let base = "host: 127.0.0.1\nport: 0\nno-tls: true\n"
        let path = try files.write("securechat.yaml", base + "log-level: notice\n")
        try await withDaemon(arguments: ["--config", path], loopbackListeners: false) { daemon in
            try files.write("securechat.yaml", base + "log-level: info\n")
            daemon.signal(SIGHUP)
            try await eventually("the reload to be applied") {
                daemon.logLines.contains { $0.contains("configuration reloaded") && $0.contains("log-level") }
            }
            let alice = try await TestClient.loggedIn("alice", port: daemon.plaintextPort)
            alice.send("/quit")
            _ = try await alice.readToEnd()
            try await eventually("the close to be logged at info") {
                daemon.logLines.contains { $0.contains("connection closed") }
            }
        }
    }
}
