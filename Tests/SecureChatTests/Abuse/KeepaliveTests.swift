import NIOCore
import Testing

@testable import SecureChat

/// The keepalive options are read back with getsockopt from the server's own end of each connection: the server
/// runs in the test process, so its accepted socket is one of this process's descriptors, found by its ports.
@Suite("Abuse: keepalive options on accepted sockets", .timeLimit(.minutes(1)))
struct KeepaliveTests {
    #if os(Linux)
        private func serverSideOptions(of client: TestClient, listenerPort: Int) throws -> KeepaliveOptions {
            let clientPort = try #require(client.channel.localAddress?.port)
            let fd = try #require(
                AcceptedSocket.descriptor(localPort: listenerPort, peerPort: clientPort),
                "no descriptor of this process is the server's end of the connection"
            )
            return try #require(AcceptedSocket.keepaliveOptions(of: fd))
        }

        @Test("configured keepalive and TCP_USER_TIMEOUT are set on sockets accepted by both listeners")
        func configuredOptions() async throws {
            let settings = KeepaliveSettings(idle: .seconds(7), interval: .seconds(3), probeCount: 5)
            try await withTestServer({ $0.keepalive = settings }) { server in
                let plain = try await TestClient.connect(port: server.port)
                try await plain.readUntil { $0.hasPrefix("* Choose a username") }
                let tls = try await TestClient.connect(port: server.tlsPort, tls: .plain)
                try await tls.readUntil { $0.hasPrefix("* Choose a username") }
                let expected = KeepaliveOptions(
                    keepalive: 1, idleSeconds: 7, intervalSeconds: 3, probes: 5, userTimeoutMillis: 22_000, noDelay: 1
                )
                #expect(try serverSideOptions(of: plain, listenerPort: server.port) == expected)
                #expect(try serverSideOptions(of: tls, listenerPort: server.tlsPort) == expected)
                await plain.close()
                await tls.close()
            }
        }

        @Test("by default: idle 60 s, interval 15 s, 4 probes, TCP_USER_TIMEOUT 120 s")
        func defaultOptions() async throws {
            try await withTestServer { server in
                let client = try await TestClient.loggedIn("alice", port: server.port)
                #expect(
                    try serverSideOptions(of: client, listenerPort: server.port)
                        == KeepaliveOptions(
                            keepalive: 1, idleSeconds: 60, intervalSeconds: 15, probes: 4, userTimeoutMillis: 120_000,
                            noDelay: 1
                        )
                )
                await client.close()
            }
        }

        @Test("an explicit user timeout wins over the derived one")
        func explicitUserTimeout() async throws {
            try await withTestServer({ $0.keepalive = KeepaliveSettings(userTimeout: .milliseconds(4500)) }) { server in
                let client = try await TestClient.connect(port: server.port)
                try await client.readUntil { $0.hasPrefix("* Choose a username") }
                #expect(try serverSideOptions(of: client, listenerPort: server.port).userTimeoutMillis == 4500)
                await client.close()
            }
        }
    #endif
}
