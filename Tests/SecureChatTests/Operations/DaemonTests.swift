import Foundation
import SecureChat
import Testing

@Suite("securechatd as a process: graceful shutdown, JSON logs")
struct DaemonTests {
    @Test("SIGTERM: every client gets the notice then EOF, and the process exits 0; JSON logs, no chat text")
    func gracefulShutdown() async throws {
        try await withDaemon(arguments: [
            "--cert", TestCertificates.set.certificatePath, "--key", TestCertificates.set.privateKeyPath,
            "--log-format", "json", "--history", "0",
        ]) { daemon in
            let tlsPort = try #require(daemon.tlsPort)
            let plain = try await TestClient.loggedIn("plain", port: daemon.plaintextPort)
            let secure = try await TestClient.loggedIn("secure", port: tlsPort, tls: .plain)
            _ = try await plain.sync()
            plain.send("the-secret-chat-text")
            #expect(try await secure.readUntil { $0.hasPrefix("plain:") } == "plain: the-secret-chat-text")

            daemon.signal(SIGTERM)
            for client in [plain, secure] {
                // The notice and nothing else: no leave notices, no operator hand-over while everyone leaves.
                #expect(try await client.readToEnd() == ["* The server is shutting down. Goodbye!"])
            }
            #expect(try await daemon.waitForExit() == 0)

            let lines = daemon.logLines.filter { $0.hasPrefix("{") }
            #expect(lines.count >= 6)
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["message"] is String, "not a JSON log line: \(line)")
            }
            let loggedIn = lines.filter { $0.contains("\"message\":\"user logged in\"") }
            #expect(loggedIn.count == 2)
            #expect(loggedIn.allSatisfy { $0.contains("\"connection\":") && $0.contains("\"peer\":\"127.0.0.1\"") })
            #expect(!daemon.logLines.contains { $0.contains("the-secret-chat-text") })
            #expect(!daemon.logLines.contains { $0.contains("metrics endpoint") })
        }
    }

    @Test("--log-messages puts chat text into the log")
    func logMessages() async throws {
        try await withDaemon(arguments: ["--no-tls", "--log-messages"]) { daemon in
            let alice = try await TestClient.loggedIn("alice", port: daemon.plaintextPort)
            alice.send("words-worth-logging")
            _ = try await alice.sync()
            daemon.signal(SIGTERM)
            _ = try await alice.readToEnd()
            #expect(try await daemon.waitForExit() == 0)
            #expect(daemon.logLines.contains { $0.contains("words-worth-logging") })
        }
    }
}
