import Logging
import NIOCore
import SecureChat

/// One node of a test cluster: a real `ChatServer` in this process with `--cluster` pointing at a throwaway
/// PostgreSQL. `stop()` closes its clients and stops it (it leaves the cluster as a clean shutdown would).
struct TestClusterNode: Sendable {
    let name: String
    let server: TestServer
    private let running: Task<Void, any Error>

    var port: Int { server.port }
    var tlsPort: Int { server.tlsPort }
    var hub: Hub { server.hub }

    /// Starts a node named `name` on `postgres`; `configure` adjusts the test configuration first. The default node
    /// timeout (3 s) is scaled in a sanitized build, whose heartbeats on a loaded machine would otherwise miss their
    /// deadline (a quarter of it) and pause the node now and then.
    static func start(
        _ name: String,
        on postgres: TestPostgres,
        nodeTimeout: TimeAmount = SanitizedBuild.scaled(.seconds(3)),
        configure: (inout Configuration) -> Void = { _ in }
    ) async throws -> TestClusterNode {
        var configuration = TestServer.configuration()
        configuration.cluster = ClusterConfiguration(url: postgres.url, nodeName: name, nodeTimeout: nodeTimeout)
        // Beside the test's database, not in the working directory that every test shares.
        configuration.cluster?.incarnationFile = "\(postgres.directory)/\(name).incarnation"
        configure(&configuration)
        let server = try await ChatServer.bind(configuration: configuration, logger: TestServer.quietLogger())
        return TestClusterNode(name: name, server: TestServer(server: server), running: Task { try await server.run() })
    }

    /// Stops the node. With `closingClients: false` its clients stay connected until the server closes them, as
    /// when an operator stops a node under its users.
    func stop(closingClients: Bool = true) async {
        if closingClients { await server.closeClients() }
        running.cancel()
        _ = await running.result
    }

    /// A client of this node, logged in as `name` (over TLS with `tls`).
    func login(_ name: String, from source: String? = nil, tls: Bool = false) async throws -> TestClient {
        let client = try await TestClient.connect(
            port: tls ? tlsPort : port, from: source, tls: tls ? .plain : nil)
        server.track(client)
        _ = try await client.readUntil { $0.hasPrefix("* Choose a username") }
        // A node whose link paused for a moment (a heartbeat late on a loaded machine) refuses logins until it is
        // back, and asks again; a user then tries again, and so does this.
        for _ in 0..<120 {
            client.send(name)
            let answer = try await client.readUntil("the welcome for \(name)") {
                $0.hasPrefix("* Welcome, \(name)!") || $0.hasPrefix("! Chat is paused")
            }
            if answer.hasPrefix("* Welcome") { return client }
            _ = try await client.readUntil { $0.hasPrefix("* Choose a username") }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TestTimeout(waitingFor: "the welcome for \(name) (chat stayed paused for 30 s)")
    }
}

/// Runs `body` with `count` nodes (`node1`, `node2`, ...) on one throwaway PostgreSQL, started one after the
/// other, and stops them all afterwards, whatever happens.
func withTestCluster<T: Sendable>(
    nodes count: Int = 2,
    named prefix: String = "node",
    nodeTimeout: TimeAmount = SanitizedBuild.scaled(.seconds(3)),
    configure: @escaping (inout Configuration) -> Void = { _ in },
    _ body: (TestPostgres, [TestClusterNode]) async throws -> T
) async throws -> T {
    try await TestPostgres.with { postgres in
        var nodes: [TestClusterNode] = []
        do {
            for index in 1...count {
                nodes.append(
                    try await TestClusterNode.start(
                        "\(prefix)\(index)", on: postgres, nodeTimeout: nodeTimeout, configure: configure))
            }
            let result = try await body(postgres, nodes)
            for node in nodes { await node.stop() }
            return result
        } catch {
            for node in nodes { await node.stop() }
            throw error
        }
    }
}

/// `lines` without the notices of the node's link pausing and resuming: on a loaded machine (a sanitized build
/// beside other tests) a heartbeat can miss its deadline and pause a node for a moment, which tests of other
/// things must not mistake for what they test.
func withoutLinkNotices(_ lines: [String]) -> [String] {
    lines.filter { !isLinkNotice($0) }
}

/// The broadcast that chat paused or resumed (not a refusal of something the user sent).
func isLinkNotice(_ line: String) -> Bool {
    line == ClusterFaultTests.resumed
        || (line.hasPrefix(ClusterFaultTests.paused) && line.contains("Lines you send are refused until it is back"))
}
