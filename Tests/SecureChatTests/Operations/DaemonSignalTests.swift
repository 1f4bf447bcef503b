import Foundation
import SecureChat
import Testing

@Suite("securechatd signals: SIGHUP reload, a second SIGINT")
struct DaemonSignalTests {
    @Test("SIGHUP: new connections get the new certificate, open ones stay; the ban file is read again")
    func hangupReloads() async throws {
        let directory = try TLSTemporaryDirectory()
        let first = try DevelopmentCertificates.generate(directory: directory.file("first"))
        let second = try DevelopmentCertificates.generate(directory: directory.file("second"))
        let certificate = directory.file("server.crt")
        let key = directory.file("server.key")
        let banFile = directory.file("bans.json")
        func install(_ set: DevelopmentCertificateSet) throws {
            for (from, to) in [(set.certificatePath, certificate), (set.privateKeyPath, key)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        try install(first)
        try await withDaemon(arguments: ["--cert", certificate, "--key", key, "--ban-file", banFile]) { daemon in
            let tlsPort = try #require(daemon.tlsPort)
            let trustFirst = TestClient.TLS(trustRootsPath: first.caCertificatePath)
            let trustSecond = TestClient.TLS(trustRootsPath: second.caCertificatePath)
            let old = try await TestClient.loggedIn("old", port: tlsPort, tls: trustFirst)
            _ = try await old.sync()

            try install(second)
            let ban = #"{"bans": [{"name": "mallory", "bannedBy": "admin", "bannedAt": 1700000000, "reason": "spam"}]}"#
            try Data(ban.utf8).write(to: URL(fileURLWithPath: banFile))
            daemon.signal(SIGHUP)
            try await eventually("both reloads to be logged") {
                daemon.logLines.contains { $0.contains("TLS certificate reloaded") }
                    && daemon.logLines.contains { $0.contains("ban file reloaded") }
            }

            // A client that trusts only the old CA no longer gets through; one that trusts the new CA does.
            let stale = try await TestClient.connect(port: tlsPort, tls: trustFirst)
            #expect(try await stale.readToEnd() == [])
            let new = try await TestClient.loggedIn("new", port: tlsPort, tls: trustSecond)
            // The connection made before the reload is still up and chatting.
            old.send("still here")
            #expect(try await new.readUntil { $0.hasPrefix("old:") } == "old: still here")
            // The ban that was added to the file applies now.
            let mallory = try await TestClient.connect(port: daemon.plaintextPort)
            try await mallory.readUntil { $0.hasPrefix("* Choose a username") }
            mallory.send("mallory")
            #expect(try await mallory.readLine() == "! The name mallory is not available; choose another.")
            await mallory.close()
            // A user online under a name the file bans is disconnected by the reload.
            let eve = try await TestClient.loggedIn("eve", port: daemon.plaintextPort)
            _ = try await eve.sync()
            let banEve = #"{"bans": [{"name": "eve", "bannedBy": "admin", "bannedAt": 1700000000}]}"#
            try Data(banEve.utf8).write(to: URL(fileURLWithPath: banFile))
            daemon.signal(SIGHUP)
            #expect(try await eve.readToEnd().last == "! You were banned by admin")
            for client in [old, new] { await client.close() }
        }
    }

    @Test("a second SIGINT during a graceful shutdown exits at once with status 130")
    func secondInterruptExits() async throws {
        let banFile = NSTemporaryDirectory() + "securechat-second-interrupt-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: banFile) }
        try await withDaemon(arguments: [
            "--cert", TestCertificates.set.certificatePath, "--key", TestCertificates.set.privateKeyPath,
            "--shutdown-grace", "60", "--ban-file", banFile,
        ]) { daemon in
            // A ban made just before the interrupts is on disk when the process has exited.
            let op = try await TestClient.loggedIn("alice", port: daemon.plaintextPort)
            let victim = try await TestClient.loggedIn("victim", port: daemon.plaintextPort)
            op.send("/ban victim")
            _ = try await victim.readToEnd()
            // A TLS client that stops reading never answers the server's close_notify: the graceful shutdown
            // waits for it, so the process is still there for the second interrupt.
            let lingering = try await TestClient.loggedIn("lingering", port: try #require(daemon.tlsPort), tls: .plain)
            try await lingering.channel.setOption(.autoRead, value: false).get()
            daemon.signal(SIGINT)
            try await eventually("the shutdown to begin") { daemon.logLines.contains { $0.contains("shutting down") } }
            daemon.signal(SIGINT)
            #expect(try await daemon.waitForExit() == 130)
            #expect(daemon.logLines.contains { $0.contains("second interrupt") })
            #expect(try BanFile.load(path: banFile).matching(name: "victim") != nil)
            await lingering.close()
            await op.close()
        }
    }
}
