import NIOCore
import NIOPosix
import Testing

@testable import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

/// Every database socket has TCP keepalive and `TCP_USER_TIMEOUT` set from the node timeout, so that a
/// connection that only reads (the listener's) is cut by the kernel when its peer vanished without a reset.
@Suite("DatabaseSocket: keepalive on every database socket")
struct DatabaseSocketTests {
    @Test("the keepalive settings follow the node timeout: probes after a quarter, given up after half")
    func settings() {
        let ten = DatabaseKeepalive(nodeTimeout: .seconds(10))
        #expect(ten.idleSeconds == 2)
        #expect(ten.userTimeoutMilliseconds == 5_000)
        let short = DatabaseKeepalive(nodeTimeout: .milliseconds(500))
        #expect(short.idleSeconds == 1)
        #expect(short.userTimeoutMilliseconds == 1_000)
        let huge = DatabaseKeepalive(nodeTimeout: .nanoseconds(.max))
        #expect(huge.userTimeoutMilliseconds > 0)
    }

    @Test("a socket opened for the database carries SO_KEEPALIVE, TCP_KEEPIDLE and TCP_USER_TIMEOUT")
    func socketOptions() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let keepalive = DatabaseKeepalive(nodeTimeout: .seconds(8))
        let channel = try await DatabaseSocket.openChannel(
            host: "127.0.0.1", port: server.localAddress!.port!, keepalive: keepalive,
            connectTimeout: .seconds(5), on: group.next())
        let on = try await channel.getOption(.socketOption(.so_keepalive)).get()
        let idle = try await channel.getOption(.tcpOption(.init(rawValue: CInt(TCP_KEEPIDLE)))).get()
        let user = try await channel.getOption(.tcpOption(.init(rawValue: CInt(TCP_USER_TIMEOUT)))).get()
        try await channel.close()
        try await server.close()
        #expect(on != 0)
        #expect(idle == 2)
        #expect(user == 4_000)
    }

    @Test("under CI=true a cluster test that cannot find PostgreSQL runs (and fails), never skips")
    func ciMustRunClusterTests() {
        #expect(TestPostgres.mustRun(binariesFound: false, environment: ["CI": "true"]))
        #expect(!TestPostgres.mustRun(binariesFound: false, environment: [:]))
        #expect(TestPostgres.mustRun(binariesFound: true, environment: [:]))
    }
}
