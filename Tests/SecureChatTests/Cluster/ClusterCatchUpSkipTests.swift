import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// Catch-up after an outage reads in pages, and a room more than `--history` lines behind skips ahead: its
/// members are told once how many lines were skipped, then get exactly the room's last `--history` lines.
@Suite(
    "Cluster: catch-up skips ahead of a long outage",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(3))
)
struct ClusterCatchUpSkipTests {
    @Test("a node cut off while more than --history lines were committed says how many it skipped, then the rest")
    func skipsAheadAndSaysSo() async throws {
        try await Self.cutOff(history: 5, sent: 12, notice: "* 7 earlier lines of #lobby were skipped.")
    }

    @Test("catch-up reads more lines than one page holds, in order, after skipping ahead")
    func readsInPages() async throws {
        let lines = ClusterLink.catchUpPage + 200
        try await Self.cutOff(
            history: ClusterLink.catchUpPage + 100, sent: lines, notice: "* 100 earlier lines of #lobby were skipped.")
    }

    /// node1 (through a proxy, with `history` lines) is cut off while bob on node2 sends `sent` lines; alice on
    /// node1 must then see `notice` once and exactly the last `history` lines, in order.
    static func cutOff(history: Int, sent count: Int, notice: String) async throws {
        try await TestPostgres.with { postgres in
            let proxy = try await FaultProxy.start(to: postgres.port)
            var nodes: [TestClusterNode] = []
            let finish = {
                proxy.resume()
                for node in nodes { await node.stop() }
                await proxy.stop()
            }
            do {
                let nodeTimeout = ClusterFaultTests.nodeTimeout
                nodes.append(
                    try await TestClusterNode.start("node1", on: postgres, nodeTimeout: nodeTimeout) {
                        $0.historyLines = history
                        $0.maximumLineBytes = 256  // so that a long history fits the outbox
                        $0.cluster?.url =
                            "postgres://\(postgres.user)@127.0.0.1:\(proxy.port)/\(postgres.database)?sslmode=disable"
                    })
                nodes.append(
                    // node2 does not declare node1 down while it is cut off: this test is about catching up.
                    try await TestClusterNode.start("node2", on: postgres, nodeTimeout: .seconds(120)) {
                        $0.historyLines = history
                        $0.maximumLineBytes = 256  // so that a long history fits the outbox
                    })
                let alice = try await nodes[0].login("alice")
                let bob = try await nodes[1].login("bob")
                try await alice.readUntil("bob's arrival") { $0 == "* bob joined #lobby" }
                // node1 has applied every event of #lobby so far (alice's own join notice included, which she is
                // never shown): the number skipped counts from there.
                let lobby = RoomName(parsing: "#lobby")!
                try await eventually("node1 to have applied #lobby up to the database's last sequence") {
                    let last = try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user)
                    {
                        connection in
                        var last: Int64 = 0
                        for try await value in try await connection.query(
                            "SELECT last_sequence FROM securechat_rooms WHERE name = '#lobby'",
                            logger: ClusterForgedNotificationTests.logger
                        ).decode(Int64.self) {
                            last = value
                        }
                        return last
                    }
                    return await nodes[0].hub.lastSequences()[lobby] == last
                }

                proxy.cut()
                var aliceSaw = try await alice.collect(within: nodeTimeout) { $0.hasPrefix(ClusterFaultTests.paused) }
                let sent = (1...count).map { "b\($0)" }
                bob.sendRaw(Array(sent.map { "\($0)\n" }.joined().utf8))
                _ = try await bob.sync()
                // The held connections are dropped on the database's side: the node's listener must connect
                // afresh and catch up from the tables (not take the held notifications).
                proxy.forgetConnections()
                proxy.resume()
                // "Chat resumed" can come before the listener's new connection has caught up: wait for the lines.
                aliceSaw += try await alice.collect(within: nodeTimeout * 3) { $0 == "bob: b\(count)" }
                aliceSaw += try await alice.sync()
                let notices = aliceSaw.filter { $0.contains("earlier line") }
                #expect(notices == [notice], "\(aliceSaw.prefix(20))")
                let fromBob = aliceSaw.filter { $0.hasPrefix("bob: ") }
                #expect(fromBob == sent.suffix(history).map { "bob: \($0)" }, "\(aliceSaw.prefix(20))")
                let noticeAt = aliceSaw.firstIndex { $0.contains("earlier line") }
                let firstLineAt = aliceSaw.firstIndex { $0.hasPrefix("bob: ") }
                if let noticeAt, let firstLineAt { #expect(noticeAt < firstLineAt, "\(aliceSaw)") }
                // Chat goes on from there.
                bob.send("after")
                try await alice.readUntil("bob's next line") { $0 == "bob: after" }
            } catch {
                await finish()
                throw error
            }
            await finish()
        }
    }

    @Test("the number skipped is written with thousands separators")
    func thousandsSeparators() {
        #expect(Hub.withThousandsSeparators(7) == "7")
        #expect(Hub.withThousandsSeparators(999) == "999")
        #expect(Hub.withThousandsSeparators(1_234) == "1,234")
        #expect(Hub.withThousandsSeparators(1_234_567) == "1,234,567")
        #expect(Hub.withThousandsSeparators(Int64.max) == "9,223,372,036,854,775,807")
    }
}
