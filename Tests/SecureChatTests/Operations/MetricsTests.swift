import SecureChat
import Testing

@Suite("Metrics endpoint")
struct MetricsTests {
    /// Fetches `path` from the metrics endpoint with a plain HTTP/1.0 request; returns the response's lines.
    private func fetch(_ path: String, port: Int) async throws -> [String] {
        let client = try await TestClient.connect(port: port)
        client.sendRaw(Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8))
        return try await client.readToEnd()
    }

    @Test("/metrics shows exactly the logins, messages and deliveries a scripted session caused")
    func countsFromAScriptedSession() async throws {
        try await withTestServer({ $0.metricsPort = 0 }) { server in
            let metricsPort = try #require(server.server.metricsPort)
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await TestClient.loggedIn("bob", port: server.tlsPort, tls: .plain)
            for number in 1...3 { alice.send("line \(number)") }
            _ = try await alice.sync()
            bob.send("/msg alice hi")
            try await alice.readUntil { $0 == "[dm] bob: hi" }
            _ = try await bob.sync()

            let lines = try await fetch("/metrics", port: metricsPort)
            #expect(lines.first == "HTTP/1.0 200 OK")
            #expect(lines.contains("securechat_logins_total 2"))
            #expect(lines.contains("securechat_messages_total 4"))
            // alice: welcome + operator notice; bob: welcome + 3 history lines (header, alice's join, footer);
            // alice sees bob join; bob gets 3 chat lines; the DM and its confirmation: 2 + 4 + 1 + 3 + 2.
            #expect(lines.contains("securechat_deliveries_total 12"))
            #expect(lines.contains("securechat_users 2.0"))
            #expect(lines.contains("securechat_connections{transport=\"tls\"} 1.0"))
            #expect(lines.contains("securechat_tls_handshakes_total 1"))
            #expect(lines.contains("securechat_tls_handshake_duration_seconds_count 1"))

            // A second scrape adds nothing that did not happen.
            let again = try await fetch("/metrics", port: metricsPort)
            #expect(again.contains("securechat_messages_total 4"))
            await alice.close()
            await bob.close()
        }
    }

    @Test("/healthz answers 200 while the server accepts and never after shutdown begins; unknown paths 404")
    func health() async throws {
        try await withTestServer({ $0.metricsPort = 0 }) { server in
            let metricsPort = try #require(server.server.metricsPort)
            let healthy = try await fetch("/healthz", port: metricsPort)
            #expect(healthy.first == "HTTP/1.0 200 OK")
            #expect(healthy.last == "ok")
            #expect(try await fetch("/nope", port: metricsPort).first == "HTTP/1.0 404 Not Found")
            server.server.shutdown()
            // Once shutdown has begun the endpoint answers 503 until the server has drained, then it is gone:
            // either way it never says healthy again.
            let stopping = (try? await fetch("/healthz", port: metricsPort)) ?? []
            #expect(stopping.isEmpty || stopping.first == "HTTP/1.0 503 Service Unavailable")
        }
    }

    @Test("no metrics endpoint unless configured")
    func offByDefault() async throws {
        try await withTestServer { server in
            #expect(server.server.metricsPort == nil)
        }
    }
}
