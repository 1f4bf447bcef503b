import Foundation
import Testing

@testable import SecureChat

/// `operator-account` and `client-certs` are reloadable (SIGHUP): log-ins after the reload follow the new values.
@Suite("Accounts: operator-account and client-certs reload on SIGHUP", .timeLimit(.minutes(3)))
struct AccountReloadTests {
    @Test("after a reload naming boss an operator account and asking for any certificate, both apply to new log-ins")
    func reload() async throws {
        let (directory, accounts) = try await Accounts.file([(name: "boss", password: "the boss's password")])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = try await CertificateLoginTests.selfSigned("carol", in: directory)
        let files = try ConfigurationFiles()
        let set = TestCertificates.set
        let base = """
            host: 127.0.0.1
            port: 0
            tls-port: 0
            cert: \(set.certificatePath)
            key: \(set.privateKeyPath)
            account-file: \(accounts)

            """
        let path = try files.write("securechat.yaml", base)
        try await withDaemon(arguments: ["--config", path], loopbackListeners: false) { daemon in
            let tlsPort = try #require(daemon.tlsPort)
            // The first user holds the first-user operator role while no operator account is configured.
            let first = try await TestClient.loggedIn("first", port: daemon.plaintextPort)
            defer { Task { await first.close() } }
            let boss = try await Self.bossLogsIn(tlsPort)
            #expect(try await boss.sync().contains("* You are an operator.") == false)
            let carol = try await TestClient.loggedIn(
                "carol", port: tlsPort, tls: TestClient.TLS(clientCertificate: certificate))
            carol.send("/whois carol")
            #expect(try await carol.readUntil { $0.hasPrefix("* carol") }.contains("client certificate") == false)
            await carol.close()

            try files.write("securechat.yaml", base + "operator-account: [boss]\nclient-certs: any\n")
            daemon.signal(SIGHUP)
            try await eventually("the reload to be applied") {
                daemon.logLines.contains { $0.contains("configuration reloaded") && $0.contains("operator-account") }
            }
            let again = try await Self.bossLogsIn(tlsPort)
            #expect(try await again.sync().contains("* You are an operator."))
            await boss.close()
            await again.close()
            let carolAgain = try await TestClient.loggedIn(
                "carol", port: tlsPort, tls: TestClient.TLS(clientCertificate: certificate))
            carolAgain.send("/whois carol")
            let whois = try await carolAgain.readUntil { $0.hasPrefix("* carol") }
            #expect(whois.contains("client certificate SHA-256 \(certificate.fingerprintSHA256)"), "\(whois)")
            await carolAgain.close()
        }
    }

    /// boss logs in over TLS with the password; returns after the welcome.
    static func bossLogsIn(_ tlsPort: Int) async throws -> TestClient {
        let boss = try await TestClient.connect(port: tlsPort, tls: .plain)
        _ = try await boss.readUntil { $0 == Accounts.prompt }
        boss.send("boss")
        #expect(try await boss.readLine() == Accounts.passwordPrompt("boss"))
        boss.send("the boss's password")
        _ = try await boss.readUntil { $0.hasPrefix("* Welcome back, boss!") }
        return boss
    }
}
