import SecureChat
import Testing

@Suite("Connection rate per address")
struct ConnectRateTests {
    @Test("past the burst, a new connection is refused with the message; nothing of it reaches /users")
    func refusedPastTheBurst() async throws {
        // A rate this slow refills nothing during the test, so the count is exact on any machine.
        try await withTestServer({
            $0.connectRatePerAddress = 0.001
            $0.connectBurst = 3
        }) { server in
            var clients: [TestClient] = []
            for index in 0..<3 { clients.append(try await TestClient.loggedIn("user\(index)", port: server.port)) }
            let refused = try await AbuseClient.connect(port: server.port, from: "127.0.0.1")
            let lines = try await refused.readToEnd()
            #expect(lines == ["! Too many new connections from your address; wait a moment and try again."])
            #expect(server.server.counters[.refusedConnectRate] == 1)
            clients[0].send("/users")
            #expect(try await clients[0].readUntil { $0.hasPrefix("* 3 users") }.hasPrefix("* 3 users in #lobby"))
            // Another address has its own budget.
            let other = try await AbuseClient.connect(port: server.port, from: "127.0.0.2")
            try await other.readUntil { $0.hasPrefix("* Choose a username") }
            await other.close()
            for client in clients { await client.close() }
        }
    }
}
