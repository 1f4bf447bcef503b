import NIOCore
import Testing

@testable import SecureChat

/// Connection caps over real sockets. "Another address" is 127.0.0.2: Linux routes all of 127.0.0.0/8 to loopback.
@Suite("Abuse: connection limits end to end", .timeLimit(.minutes(2)))
struct ConnectionLimitTests {
    static let tooManyFromAddress = "! Too many connections from your address; close one and try again."
    static let serverFull = "! The server is full; try again later."

    /// Opens a plaintext connection and waits for the prompt: proof that it was admitted.
    private func admitted(port: Int) async throws -> TestClient {
        let client = try await TestClient.connect(port: port)
        try await client.readUntil("the username prompt") { $0.hasPrefix("* Choose a username") }
        return client
    }

    @Test("the 17th connection from one address is refused with the message; another address is still admitted")
    func perAddressCap() async throws {
        try await withTestServer({ $0.maximumConnectionsPerAddress = 16 }) { server in
            var held: [TestClient] = []
            for _ in 0..<16 { held.append(try await admitted(port: server.port)) }
            // One of the sixteen logs in, to look at /users afterwards.
            held[0].send("alice")
            try await held[0].readUntil { $0.hasPrefix("* Welcome, alice!") }

            let refused = try await AbuseClient.connect(port: server.port)
            refused.send("mallory")  // dropped unread: a refused connection never reaches a session
            #expect(try await refused.readToEnd() == [Self.tooManyFromAddress])
            // The TLS port refuses too, without a plaintext line in the middle of a TLS stream.
            let refusedTLS = try await AbuseClient.connect(port: server.tlsPort)
            #expect(try await refusedTLS.readToEnd() == [])

            let other = try await AbuseClient.loggedIn("other", port: server.port, from: "127.0.0.2")
            held[0].send("/users all")
            #expect(
                try await held[0].readUntil { $0.hasPrefix("* 2 users") }
                    == "* 2 users online: alice #lobby [op] [plaintext], other #lobby [plaintext]"
            )
            #expect(server.server.counters[.refusedPerAddress] == 2)
            let statistics = server.server.connectionLimiter.statistics
            #expect(statistics.refusals[.tooManyFromAddress] == 2)
            #expect(statistics.activeConnections == 17)
            #expect(server.server.connectionLimiter.connectionCount(for: "127.0.0.1") == 16)

            // Closing one frees its slot (released asynchronously: retry until admitted).
            await held.removeLast().close()
            var admittedAgain: AbuseClient?
            try await eventually("a freed slot") {
                let client = try await AbuseClient.connect(port: server.port)
                let first = try await client.readLine()
                if first == "* Welcome to SecureChat." {
                    admittedAgain = client
                    return true
                }
                #expect(first == Self.tooManyFromAddress)
                await client.close()
                return false
            }
            await admittedAgain?.close()
            for client in held { await client.close() }
            await other.close()
            await refused.close()
            await refusedTLS.close()
        }
    }

    @Test("the global cap refuses with its own message, on both ports, from any address")
    func globalCap() async throws {
        try await withTestServer({ $0.maximumConnections = 3 }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let second = try await admitted(port: server.port)
            let third = try await AbuseClient.connect(port: server.port, from: "127.0.0.2")
            try await third.readUntil { $0.hasPrefix("* Choose a username") }

            let refused = try await AbuseClient.connect(port: server.port)
            refused.send("mallory")
            #expect(try await refused.readToEnd() == [Self.serverFull])
            let refusedElsewhere = try await AbuseClient.connect(port: server.port, from: "127.0.0.3")
            #expect(try await refusedElsewhere.readToEnd() == [Self.serverFull])
            let refusedTLS = try await AbuseClient.connect(port: server.tlsPort)
            #expect(try await refusedTLS.readToEnd() == [])

            #expect(server.server.counters[.refusedServerFull] == 3)
            #expect(server.server.counters[.refusedPerAddress] == 0)
            #expect(server.server.counters[.connectionAccepted] == 3)
            #expect(server.server.connectionLimiter.statistics.refusals[.serverFull] == 3)
            alice.send("/users all")
            #expect(
                try await alice.readUntil { $0.hasPrefix("* 1 user") }
                    == "* 1 user online: alice #lobby [op] [plaintext]")
            #expect(await server.hub.onlineCount == 1)
            for client in [alice, second] { await client.close() }
            for client in [third, refused, refusedTLS, refusedElsewhere] { await client.close() }
        }
    }
}
