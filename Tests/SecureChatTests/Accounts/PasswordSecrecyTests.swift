import Foundation
import Testing

@testable import SecureChat

/// Passwords never reach the logs (at trace level, with --log-messages), history, the line-too-long reply,
/// metrics, or the chat counters.
@Suite("Accounts: passwords are never logged, stored in history or counted", .timeLimit(.minutes(3)))
struct PasswordSecrecyTests {
    static let registered = "Secret-Register-7731"
    static let changed = "Secret-Changed-1189"
    static let wrong = "Secret-Wrong-5521"
    static let overlong = "Secret-Overlong-" + String(repeating: "x", count: 3000)

    @Test("a whole account session at --log-level trace --log-messages leaves no password anywhere")
    func noPasswordAnywhere() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let set = TestCertificates.set
        try await withDaemon(arguments: [
            "--cert", set.certificatePath, "--key", set.privateKeyPath, "--account-file", directory + "/accounts.json",
            "--log-level", "trace", "--log-messages", "--metrics-port", "0", "--metrics-host", "127.0.0.1",
        ]) { daemon in
            let tlsPort = try #require(daemon.tlsPort)
            var seen: [String] = []
            let watcher = try await TestClient.loggedIn("watcher", port: daemon.plaintextPort)
            defer { Task { await watcher.close() } }
            watcher.send("a chat line, so the log has one")

            let bob = try await TestClient.loggedIn("bob", port: tlsPort, tls: .plain)
            seen += try await bob.sync()
            bob.send("/register \(Self.registered)")
            bob.send("/password \(Self.registered) \(Self.changed)")
            bob.send("/stats")
            seen += try await bob.sync()
            #expect(seen.contains("* bob is now registered to you: log in with its password from now on."), "\(seen)")
            #expect(seen.contains("* Password changed."), "\(seen)")
            #expect(seen.contains { $0.hasPrefix("* You: 0 messages sent") }, "account commands are not chat: \(seen)")

            let again = try await TestClient.connect(port: tlsPort, tls: .plain)
            _ = try await again.readUntil { $0 == Accounts.prompt }
            again.send("bob")
            #expect(try await again.readLine() == Accounts.passwordPrompt("bob"))
            again.send(Self.wrong)
            #expect(try await again.readLine() == "! Wrong password for bob.")
            #expect(try await again.readLine() == Accounts.prompt)
            again.send("bob")
            #expect(try await again.readLine() == Accounts.passwordPrompt("bob"))
            // Discarded as it streams; the password prompt stays.
            again.send(Self.overlong)
            let tooLong = try #require(try await again.readLine())
            #expect(tooLong.hasPrefix("! Line too long"), "\(tooLong)")
            seen.append(tooLong)
            again.send(Self.changed)
            seen += try await again.sync()
            #expect(seen.contains { $0.hasPrefix("* Welcome back, bob!") }, "\(seen)")
            again.send("/unregister \(Self.changed)")
            seen += try await again.sync()
            #expect(seen.contains { $0.hasPrefix("* bob is no longer registered.") }, "\(seen)")
            seen += try await bob.readToEnd()
            seen += try await watcher.sync()
            // A newcomer's history replay of #lobby.
            let newcomer = try await TestClient.connect(port: daemon.plaintextPort)
            _ = try await newcomer.readUntil { $0 == Accounts.prompt }
            newcomer.send("newcomer")
            seen += try await newcomer.sync()
            await newcomer.close()
            await again.close()

            let metricsPort = try #require(daemon.metricsPort)
            let metrics = try await TestClient.connect(port: metricsPort)
            metrics.sendRaw(Array("GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8))
            let exposition = try await metrics.readToEnd()
            #expect(exposition.first == "HTTP/1.0 200 OK")

            // The log is not empty: it holds the chat line (--log-messages) and the account events.
            try await eventually("the log to show the unregistering") {
                daemon.logLines.contains { $0.contains("unregistered") }
            }
            let log = daemon.logLines
            #expect(log.contains { $0.contains("a chat line, so the log has one") })
            #expect(log.contains { $0.contains("wrong password") })
            for (place, lines) in [("log", log), ("client lines", seen), ("metrics", exposition)] {
                let leaks = lines.filter { $0.contains("Secret-") }
                #expect(leaks.isEmpty, "a password in the \(place): \(leaks.map { String($0.prefix(200)) })")
            }
        }
    }
}
