import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// A node restarted under its own name (issue 23, point 4): real `securechatd` processes beside an in-process
/// node, stopped with SIGTERM or killed with SIGKILL and started again at once, as systemd's
/// `Restart=on-failure` does.
@Suite(
    "Cluster: restarting a node under its name",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(5))
)
struct ClusterRestartTests {
    /// Far longer than any test waits: a restart that works only once the old heartbeat aged out fails.
    static let nodeTimeout = 120

    /// `securechatd`'s arguments for the node `phoenix` on `postgres`, its incarnation file in `directory`.
    static func arguments(_ postgres: TestPostgres, _ directory: String) -> [String] {
        let set = TestCertificates.set
        return [
            "--cert", set.certificatePath, "--key", set.privateKeyPath, "--cluster", postgres.url, "--node-name",
            "phoenix", "--node-timeout", "\(nodeTimeout)", "--incarnation-file", "\(directory)/phoenix.incarnation",
        ]
    }

    /// Runs `body` with a survivor node (alice logged in there) and a folder for incarnation files.
    static func withSurvivor(_ body: (TestPostgres, TestClient, String) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "securechat-restart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await TestPostgres.with { postgres in
            let node = try await TestClusterNode.start(
                "survivor", on: postgres, nodeTimeout: .seconds(Int64(nodeTimeout)))
            do {
                let alice = try await node.login("alice")
                try await body(postgres, alice, directory)
            } catch {
                await node.stop()
                throw error
            }
            await node.stop()
        }
    }

    @Test("after SIGTERM the node deregisters, never rejoins while stopping, and starts again at once")
    func restartAfterStop() async throws {
        try await Self.withSurvivor { postgres, alice, directory in
            let arguments = Self.arguments(postgres, directory)
            let log = try await withDaemon(arguments: arguments) { first in
                let bob = try await TestClient.loggedIn("bob", port: first.plaintextPort)
                try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
                first.signal(SIGTERM)
                _ = try await first.waitForExit()
                try await alice.readUntil("bob's departure") { $0 == "* bob left #lobby (server shutting down)" }
                await bob.close()
                return first.logLines
            }
            let rejoined = log.filter { $0.contains("declared down") || $0.contains("rejoin") }
            #expect(rejoined.isEmpty)
            try await withDaemon(arguments: arguments) { second in
                let bob = try await TestClient.loggedIn("bob", port: second.plaintextPort)
                try await alice.readUntil("bob's return") { $0 == "* bob joined #lobby" }
                await bob.close()
            }
        }
    }

    @Test("a node leaving the cluster is not registered again while it stops, by its heartbeat or its listener")
    func noRejoinWhileStopping() async throws {
        // Heartbeats every 200 ms: several beat, and the node's own "down" notification arrives, between the
        // retirement and the checks below, while its link still runs (as during a graceful shutdown).
        try await withTestCluster(nodes: 2, nodeTimeout: .seconds(1)) { postgres, nodes in
            let alice = try await nodes[0].login("alice")
            let bob = try await nodes[1].login("bob")
            try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
            let seam = await nodes[1].hub.cluster
            let link = try #require(seam as? ClusterLink)
            await link.retire()
            try await alice.readUntil("bob's departure") { $0 == "* bob left #lobby (server shutting down)" }
            try await Task.sleep(for: .seconds(2))
            let rows = try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) {
                connection in
                var count = 0
                for try await value in try await connection.query(
                    "SELECT count(*)::bigint FROM securechat_nodes WHERE name = 'node2'",
                    logger: ClusterForgedNotificationTests.logger
                ).decode(Int.self) {
                    count = value
                }
                return count
            }
            #expect(rows == 0, "node2 registered itself again while stopping")
            #expect(try await bob.sync().allSatisfy { !$0.contains("lost its place") })
            await alice.close()
            await bob.close()
        }
    }

    @Test("after kill -9 the node restarted on the same machine takes its name over at once; its users are gone")
    func restartAfterCrash() async throws {
        try await Self.withSurvivor { postgres, alice, directory in
            let arguments = Self.arguments(postgres, directory)
            try await withDaemon(arguments: arguments) { first in
                let bob = try await TestClient.loggedIn("bob", port: first.plaintextPort)
                try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
                first.signal(SIGKILL)
                _ = try await first.waitForExit()
                await bob.close()
            }
            try await withDaemon(arguments: arguments) { second in
                try await alice.readUntil("bob's departure") { $0 == "* bob left #lobby (server lost)" }
                let bob = try await TestClient.loggedIn("bob", port: second.plaintextPort)
                try await alice.readUntil("bob's return") { $0 == "* bob joined #lobby" }
                await bob.close()
            }
        }
    }

    @Test("a second live process under the same name, with the same incarnation file, is still refused")
    func twoLiveProcessesAreRefused() async throws {
        try await Self.withSurvivor { postgres, alice, directory in
            let arguments = Self.arguments(postgres, directory)
            try await withDaemon(arguments: arguments) { first in
                let bob = try await TestClient.loggedIn("bob", port: first.plaintextPort)
                try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
                let command = ["--host", "127.0.0.1", "--port", "0", "--tls-port", "0"] + arguments
                let (status, log) = try await withProcess(
                    DaemonProcess.executable, command, collecting: .standardError
                ) { second in
                    (try await second.waitForExit(timeout: .seconds(60)), second.lines)
                }
                #expect(status != 0)
                #expect(log.contains { $0.contains("node name phoenix is in use") }, "\(log.suffix(5))")
                // The first process is untouched: its user still chats.
                bob.send("still here")
                try await alice.readUntil("bob's line") { $0 == "bob: still here" }
                await bob.close()
            }
        }
    }

    @Test("a node name other nodes would not read (too long, control characters) is refused at start")
    func unreadableNodeNameIsRefused() async throws {
        for name in [String(repeating: "n", count: 256), "node\u{1b}[2J"] {
            let command = [
                "--host", "127.0.0.1", "--port", "0", "--tls-port", "0", "--cluster",
                "postgres://securechat@127.0.0.1:1/securechat?sslmode=disable", "--node-name", name,
            ]
            let (status, log) = try await withProcess(DaemonProcess.executable, command, collecting: .standardError) {
                process in
                (try await process.waitForExit(timeout: .seconds(60)), process.lines)
            }
            #expect(status != 0)
            #expect(log.contains { $0.contains("--node-name must be 1-255 bytes") }, "\(log.suffix(5))")
        }
    }
}
