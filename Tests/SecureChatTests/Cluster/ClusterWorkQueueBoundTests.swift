import Logging
import NIOCore
import NIOPosix
import Prometheus
import Testing

@testable import SecureChat

/// The work queue (name claims, DMs, kicks) is bounded: while the database is slow and the queue full, a
/// login or a DM is refused at once instead of joining a queue that grows without bound.
@Suite("Cluster: the work queue's bound")
struct ClusterWorkQueueBoundTests {
    @Test("past the limit a claim is answered 'unavailable' at once; those queued are refused when the node stops")
    func claimsPastTheLimit() async throws {
        var configuration = ClusterConfiguration(
            url: "postgres://securechat@127.0.0.1:1/securechat?sslmode=disable", nodeName: "bounded")
        configuration.workQueueLimit = 2
        configuration.incarnationFile = "/tmp/securechat-work-queue-\(UInt32.random(in: 0...UInt32.max)).incarnation"
        // Never started: its work loop does not run, as when a query hangs on a stalled database.
        let link = try ClusterLink(
            configuration: configuration, historyLines: 10, bans: BanStore(logger: TestServer.quietLogger()),
            accounts: AccountStore(logger: TestServer.quietLogger()), registry: PrometheusCollectorRegistry(),
            logger: TestServer.quietLogger(),
            group: MultiThreadedEventLoopGroup.singleton)
        func info(_ id: UInt64) -> ClientInfo {
            ClientInfo(id: ConnectionID(id), address: "192.0.2.1", transport: .plaintext, connectedAt: .now())
        }
        let queued = (1...2).map { number in
            Task { await link.claim(try! Username.validate("user\(number)").get(), for: info(UInt64(number))) }
        }
        try await eventually("two claims to be queued") { link.state.withLockedValue { $0.work.count } == 2 }
        let third = await link.claim(try Username.validate("user3").get(), for: info(3))
        #expect(third == .unavailable)
        #expect(link.state.withLockedValue { $0.work.count } == 2)
        // Stopping refuses what waited; nobody waits forever.
        await link.retire()
        for claim in queued { #expect(await claim.value == .unavailable) }
    }
}
