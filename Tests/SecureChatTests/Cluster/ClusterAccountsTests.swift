import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// Accounts in a cluster live in its database: a name registered on one node is its owner's on every node, a
/// change made on one node holds on all, wrong passwords count cluster-wide, and nothing changes while the
/// database is out of reach.
@Suite(
    "Cluster: accounts",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(3))
)
struct ClusterAccountsTests {
    static let password = "alice's long password"

    /// Cheap hashes: the tests check where accounts live, not what hashing costs.
    static func configure(_ configuration: inout Configuration) {
        configuration.accountLimits.hashParameters = Accounts.cheap
    }

    static let unavailable =
        "! Accounts cannot be changed while the cluster's database is out of reach; nothing changed."

    /// `name` registered with `password` by a TLS user of `node`, who then quits. Tried again while the node's
    /// link is paused (a heartbeat late on a loaded machine), as a user would.
    static func register(_ name: String, password: String, on node: TestClusterNode) async throws {
        let user = try await AccountCommandTests.tlsUser(name, node.server)
        #expect(
            try await registering(user, password: password)
                == "* \(name) is now registered to you: log in with its password from now on.")
        user.send("/quit")
        _ = try await user.readToEnd()
    }

    /// The answer to `/register <password>`, sent again while it is refused for a paused link.
    static func registering(_ user: TestClient, password: String) async throws -> String? {
        try await answerOnceLinked(user, "/register \(password)")
    }

    /// The answer to `command`, sent again while it is refused for a paused link (a heartbeat late on a loaded
    /// machine pauses a node for a moment; a user then tries again, and so does this).
    static func answerOnceLinked(_ user: TestClient, _ command: String) async throws -> String? {
        var answer: String?
        for _ in 0..<120 {
            _ = try await user.sync()
            user.send(command)
            // Room notices from the other node (a join, a departure) may arrive at any moment.
            answer = try await user.readUntil("the answer to \(command)") {
                !Self.isRoomNotice($0) && !isLinkNotice($0)
            }
            guard answer == Self.unavailable else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        return answer
    }

    /// `* alice joined #lobby`, `* alice left #lobby (...)`.
    static func isRoomNotice(_ line: String) -> Bool {
        line.hasPrefix("* ") && (line.contains(" joined #") || line.contains(" left #"))
    }

    /// A TLS client of `node` that typed `name` and `password`, and the answer (tried again on a fresh connection
    /// while the answer is "busy", which is what a password check says while the link is paused).
    static func attempt(_ name: String, password: String, on node: TestClusterNode) async throws
        -> (TestClient, String)
    {
        for _ in 0..<120 {
            let client = try await Accounts.atPasswordPrompt(name, node.server)
            client.send(password)
            let answer = try await client.readUntil("the answer to the password") { !isLinkNotice($0) }
            guard answer == "! The server is busy; try again shortly." else { return (client, answer) }
            await client.close()
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TestTimeout(waitingFor: "a password check while the link was up")
    }

    /// Waits until `node`'s copy of the accounts says `status` for `name`, and returns how long that took.
    @discardableResult
    static func waitForAccount(
        _ name: String, on node: TestClusterNode, _ holds: @escaping (AccountStore.Status) -> Bool
    ) async throws -> Duration {
        let started = ContinuousClock.now
        let store = try #require(node.server.server.context.accounts?.store)
        try await eventually("\(node.name) to see the change to \(name)") {
            holds(store.status(ofKey: Username.key(for: name)))
        }
        return ContinuousClock.now - started
    }

    static func isRegistered(_ status: AccountStore.Status) -> Bool {
        if case .registered = status { return true }
        return false
    }

    @Test("a name registered on one node is its owner's on every node: plaintext refuses it, TLS asks its password")
    func registeredEverywhere() async throws {
        try await withTestCluster(configure: Self.configure) { _, nodes in
            try await Self.register("alice", password: Self.password, on: nodes[0])
            let took = try await Self.waitForAccount("alice", on: nodes[1], Self.isRegistered)
            print("cluster accounts: node2 had alice's registration \(took) after node1 confirmed it")
            let plain = try await nodes[1].server.connect()
            _ = try await plain.readUntil { $0 == Accounts.prompt }
            plain.send("AIice")
            #expect(try await plain.readLine() == Accounts.overTLSOnly("alice", nodes[1].server))
            let (alice, welcome) = try await Self.attempt("alice", password: Self.password, on: nodes[1])
            #expect(welcome.hasPrefix("* Welcome back, alice!"))
            alice.send("/whois alice")
            #expect(
                try await alice.readUntil { $0.hasPrefix("* alice") }.hasSuffix(
                    "; registered, logged in with a password."))
            // The log-in is recorded in the database, for every node.
            try await eventually("the log-in time to reach node1") {
                nodes[0].server.server.context.accounts?.store.list.account(forKey: Username.key(for: "alice"))?
                    .lastLogin != nil
            }
        }
    }

    @Test("/password on one node: the old password fails on the other, the new one logs in; /unregister holds it")
    func changesReachEveryNode() async throws {
        try await withTestCluster(configure: Self.configure) { _, nodes in
            try await Self.register("alice", password: Self.password, on: nodes[0])
            try await Self.waitForAccount("alice", on: nodes[1], Self.isRegistered)
            let oldHash = nodes[1].server.server.context.accounts?.store.list.account(
                forKey: Username.key(for: "alice"))?.hash
            let (alice, welcome) = try await Self.attempt("alice", password: Self.password, on: nodes[0])
            #expect(welcome.hasPrefix("* Welcome back, alice!"))
            #expect(
                try await Self.answerOnceLinked(alice, "/password \"\(Self.password)\" a brand new password")
                    == "* Password changed.")
            try await Self.waitForAccount("alice", on: nodes[1]) { status in
                guard case .registered(let account) = status else { return false }
                return account.hash != oldHash
            }
            #expect(
                try await Self.attempt("alice", password: Self.password, on: nodes[1]).1
                    == "! Wrong password for alice.")
            // Taking over the name from node1's connection, with the new password.
            let (again, welcomeBack) = try await Self.attempt("alice", password: "a brand new password", on: nodes[1])
            #expect(welcomeBack.hasPrefix("* Welcome back, alice!"))
            _ = try await alice.readUntil("the takeover's notice") { $0 == "! You logged in from another connection." }
            #expect(
                try await Self.answerOnceLinked(again, "/unregister a brand new password")?
                    .hasPrefix("* alice is no longer registered.") == true)
            try await Self.waitForAccount("alice", on: nodes[0]) { $0 == .held }
            let other = try await TestClient.connect(port: nodes[0].tlsPort, tls: .plain)
            nodes[0].server.track(other)
            _ = try await other.readUntil { $0 == Accounts.prompt }
            other.send("alice")
            #expect(try await other.readLine() == "! The name alice is not available; choose another.")
        }
    }

    @Test("a log-in to an account on the node that holds the name: the old connection is closed, the name stays held")
    func takeOverOnOneNode() async throws {
        try await withTestCluster(configure: Self.configure) { postgres, nodes in
            try await Self.register("alice", password: Self.password, on: nodes[0])
            let (first, _) = try await Self.attempt("alice", password: Self.password, on: nodes[0])
            let (second, welcome) = try await Self.attempt("alice", password: Self.password, on: nodes[0])
            #expect(welcome.hasPrefix("* Welcome back, alice!"))
            _ = try await first.readUntil("the takeover's notice") { $0 == "! You logged in from another connection." }
            // Once a line of the new connection is committed, so is the old one's departure: the presence row is
            // the new connection's, and node2 lists alice.
            second.send("still here")
            _ = try await second.sync()
            let rows = try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) {
                connection in
                var nodesHolding: [String] = []
                for try await node in try await connection.query(
                    "SELECT node FROM securechat_presence WHERE name_key = \(Username.key(for: "alice"))",
                    logger: ClusterForgedNotificationTests.logger
                ).decode(String.self) {
                    nodesHolding.append(node)
                }
                return nodesHolding
            }
            #expect(rows == ["node1"])
            let bob = try await nodes[1].login("bob")
            bob.send("/whois alice")
            #expect(try await bob.readUntil { $0.hasPrefix("* alice") }.contains("registered"))
        }
    }

    @Test("wrong passwords count on every node: two nodes do not allow twice the guesses")
    func throttlesAreShared() async throws {
        try await withTestCluster(configure: { configuration in
            Self.configure(&configuration)
            configuration.accountLimits.attemptsPerAccountAndAddress = .init(perSecond: 1.0 / 3600, burst: 2)
        }) { _, nodes in
            try await Self.register("alice", password: Self.password, on: nodes[0])
            try await Self.waitForAccount("alice", on: nodes[1], Self.isRegistered)
            for node in nodes {
                #expect(
                    try await Self.attempt("alice", password: "not alice's password", on: node).1
                        == "! Wrong password for alice.")
            }
            // Each node alone has allowed one guess of two; together they have allowed both.
            for node in nodes {
                #expect(
                    try await Self.attempt("alice", password: Self.password, on: node).1
                        == "! Too many password attempts for alice from your address; wait a minute and try again.")
            }
        }
    }

    @Test("while the database is out of reach, account commands say so and change nothing; then they work")
    func databaseOutOfReach() async throws {
        try await withTestCluster(configure: Self.configure) { postgres, nodes in
            let bob = try await AccountCommandTests.tlsUser("bob", nodes[0].server)
            try await postgres.pause()
            do {
                try await eventually("node1 to notice the outage") { !nodes[0].server.server.context.cluster!.isLinked }
                #expect(try await AccountCommandTests.answer(bob, "/register bob's long password") == Self.unavailable)
                #expect(nodes[0].server.server.context.accounts?.store.list.count == 0)
            } catch {
                try await postgres.resume()
                throw error
            }
            try await postgres.resume()
            try await eventually("node1 to be linked again") { nodes[0].server.server.context.cluster!.isLinked }
            _ = try await bob.sync()
            #expect(
                try await Self.registering(bob, password: "bob's long password")
                    == "* bob is now registered to you: log in with its password from now on.")
            try await Self.waitForAccount("bob", on: nodes[1], Self.isRegistered)
        }
    }

    @Test("a node that missed a removal which pruning has since deleted reads every account afresh")
    func prunedRemovalReloads() async throws {
        try await withTestCluster(configure: Self.configure) { postgres, nodes in
            try await Self.register("alice", password: Self.password, on: nodes[0])
            try await Self.register("bob", password: Self.password, on: nodes[0])
            try await Self.waitForAccount("bob", on: nodes[1], Self.isRegistered)
            // alice's account removed two days ago, without a doorbell: node2 has not read it (as if it had been
            // away), and pruning deletes the removal.
            _ = try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
                try await connection.query(
                    """
                    UPDATE securechat_accounts SET account = NULL, held_until = NULL,
                        revision = nextval('securechat_account_revisions'), changed_at = now() - interval '2 days'
                    WHERE name_key = \(Username.key(for: "alice"))
                    """, logger: ClusterForgedNotificationTests.logger)
            }
            try await nodes[0].server.server.context.cluster!.pruneAccounts()
            try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
                let rows = try await connection.query(
                    "SELECT count(*)::bigint FROM securechat_accounts", logger: ClusterForgedNotificationTests.logger)
                for try await count in rows.decode(Int.self) { #expect(count == 1, "the removal was pruned") }
                try await connection.query(
                    "SELECT pg_notify('securechat', '{\"k\":\"a\"}')", logger: ClusterForgedNotificationTests.logger)
            }
            try await Self.waitForAccount("alice", on: nodes[1]) { $0 == .unregistered }
            #expect(Self.isRegistered(nodes[1].server.server.context.accounts!.store.status(ofKey: "bob")))
        }
    }

    @Test("--account-file is refused beside --cluster: the cluster's accounts are in its database")
    func accountFileRefused() throws {
        var configuration = TestServer.configuration()
        configuration.cluster = ClusterConfiguration(url: "postgres://u@127.0.0.1:1/db", nodeName: "a")
        configuration.accountFilePath = "/tmp/accounts.json"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.accountFilePath = nil
        configuration.operatorAccounts = ["alice"]
        #expect(configuration.accountsOn)
        try configuration.validate()
    }
}
