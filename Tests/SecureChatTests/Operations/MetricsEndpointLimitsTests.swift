import NIOCore
import Testing

@testable import SecureChat

/// The metrics endpoint holds a bounded number of connections and drops silent ones (issue 24, point 11).
@Suite("Metrics endpoint: a connection limit and an idle timeout", .timeLimit(.minutes(2)))
struct MetricsEndpointLimitsTests {
    private func healthz(port: Int) async throws -> [String] {
        let client = try await TestClient.connect(port: port)
        client.sendRaw(Array("GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8))
        return try await client.readToEnd()
    }

    @Test func connectionsOverTheLimitAreClosedAtOnceAndTheOthersStillServe() async throws {
        try await withTestServer({
            $0.metricsPort = 0
            $0.metricsMaximumConnections = 2
            $0.metricsIdleTimeout = .seconds(600)
        }) { server in
            let port = try #require(server.server.metricsPort)
            let first = try await TestClient.connect(port: port)
            let second = try await TestClient.connect(port: port)
            server.track(first)
            server.track(second)
            // Both are held (they send nothing); a third is closed without an answer.
            let third = try await TestClient.connect(port: port)
            server.track(third)
            third.sendRaw(Array("GET /healthz HTTP/1.0\r\n\r\n".utf8))
            #expect(try await third.readToEnd().isEmpty, "over the limit: closed, not served")

            // A held connection is still served, and a freed slot is taken again.
            first.sendRaw(Array("GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8))
            #expect(try await first.readToEnd().first == "HTTP/1.0 200 OK")
            try await eventually("a freed slot serves again") {
                try await healthz(port: port).first == "HTTP/1.0 200 OK"
            }
        }
    }

    @Test func aSilentConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await withTestServer({
            $0.metricsPort = 0
            $0.metricsIdleTimeout = .milliseconds(200)
        }) { server in
            let port = try #require(server.server.metricsPort)
            let silent = try await TestClient.connect(port: port)
            server.track(silent)
            // Without the timeout this read would wait for the test's failsafe and fail.
            #expect(try await silent.readToEnd().isEmpty, "closed by the server, having sent nothing")
        }
    }
}
