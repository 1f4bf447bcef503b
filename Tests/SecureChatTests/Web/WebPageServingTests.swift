import NIOCore
import SecureChat
import Testing

/// The HTTP side of the ports: which first bytes make a connection HTTP, what is served and with which headers,
/// and `--no-web`.
@Suite("Web: the page on the chat ports")
struct WebPageServingTests {
    /// Sends `request` on a raw connection and returns everything the server sent before it closed.
    private func exchange(_ request: String, port: Int) async throws -> String {
        let connection = try await RawConnection.connect(port: port)
        defer { Task { await connection.close() } }
        try await connection.send(Array(request.utf8))
        return String(decoding: try await connection.waitForServerClose(), as: UTF8.self)
    }

    @Test("GET / serves the page with a strict Content-Security-Policy; its script and style are served too")
    func servesThePage() async throws {
        try await withWebTestServer { server in
            let page = try await exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(page.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(page.lowercased().contains("content-type: text/html; charset=utf-8"))
            #expect(page.contains("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'"))
            #expect(page.contains("frame-ancestors 'none'"))
            #expect(page.lowercased().contains("x-content-type-options: nosniff"))
            #expect(page.contains("<script src=\"/app.js\""))
            #expect(!page.contains("Welcome to SecureChat"))
            let script = try await exchange(
                "GET /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(script.lowercased().contains("content-type: text/javascript"))
            #expect(script.contains("new WebSocket("))
            let style = try await exchange(
                "GET /app.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(style.lowercased().contains("content-type: text/css"))
        }
    }

    @Test("keep-alive: several requests on one connection; an unknown path is 404, /ws without an upgrade 400")
    func keepAliveAndErrors() async throws {
        try await withWebTestServer { server in
            let answers = try await exchange(
                "GET /app.css HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
            #expect(answers.components(separatedBy: "HTTP/1.1 200 OK").count == 2)
            #expect(answers.contains("HTTP/1.1 404 Not Found"))
            #expect(answers.contains("HTTP/1.1 400 Bad Request"))
        }
    }

    @Test("the page over TLS, from the TLS port")
    func pageOverTLS() async throws {
        try await withWebTestServer { server in
            let client = try await TestClient.connect(port: server.tlsPort, tls: .plain)
            client.sendRaw(Array("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
            let status = try await client.readUntil("the status line") { $0.hasPrefix("HTTP/1.1") }
            #expect(status == "HTTP/1.1 200 OK")
            await client.close()
        }
    }

    @Test("a line user who types nothing is greeted as before; one who types first is not held up")
    func lineUsersStillGreeted() async throws {
        try await withTestServer { server in
            let quiet = try await server.connect()
            _ = try await quiet.readUntil { $0.hasPrefix("* Choose a username") }
            let eager = try await server.connect()
            eager.send("eager")
            _ = try await eager.readUntil { $0.hasPrefix("* Welcome, eager!") }
        }
    }

    @Test("--no-web: a request line is a refused name, as for any line client")
    func noWeb() async throws {
        try await withWebTestServer({ $0.web.enabled = false }) { server in
            let client = try await server.connect()
            client.send("GET / HTTP/1.1")
            let refusal = try await client.readUntil { $0.hasPrefix("! ") }
            #expect(refusal.contains("name"))
        }
    }
}

/// ALPN: a TLS client that offers `http/1.1` (every browser) is served HTTP from the end of its handshake, with no
/// wait for its first bytes; one that offers nothing is the line protocol, as before.
@Suite("Web: ALPN on the TLS port", .timeLimit(.minutes(2)))
struct WebALPNTests {
    @Test(
        "s_client offering http/1.1 gets HTTP even for a line that is no request; without ALPN it is greeted",
        .enabled(if: RealClientTests.openssl != nil, "needs openssl")
    )
    func alpnDecidesAtOnce() async throws {
        let openssl = try #require(RealClientTests.openssl)
        // A window no test waits out: only ALPN can make the first connection HTTP before its line arrives.
        try await withTestServer({ $0.web.detectionWindow = .seconds(120) }) { server in
            let arguments = RealClientTests.sClientArguments(port: server.tlsPort, ["-alpn", "http/1.1"])
            try await withProcess(openssl, arguments) { browserLike in
                try await browserLike.readUntil("the leaf verified") { $0.hasPrefix("depth=0") }
                browserLike.send("alice")
                let status = try await browserLike.readUntil("an HTTP answer") { $0.hasPrefix("HTTP/1.1") }
                #expect(status.hasPrefix("HTTP/1.1 400"))
            }
        }
        _ = try await withTestServer({ $0.web.detectionWindow = .milliseconds(50) }) { server in
            try await withProcess(openssl, RealClientTests.sClientArguments(port: server.tlsPort, [])) { lineClient in
                try await lineClient.readUntil("the prompt") { $0.hasPrefix("* Choose a username") }
            }
        }
    }
}
