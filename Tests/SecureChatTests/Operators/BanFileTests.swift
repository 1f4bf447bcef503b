import Foundation
import Testing

@testable import SecureChat

/// `--ban-file`: bans survive a restart; a corrupt file stops the server at start-up with its path named.
@Suite("Operators: bans kept in a file across restarts", .timeLimit(.minutes(2)))
struct BanFileTests {
    /// A fresh, empty directory for one test's ban file.
    static func scratchDirectory() -> String {
        var template = Array((NSTemporaryDirectory() + "securechat-bans-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
        return String(cString: made)
    }

    static func savedBans(_ path: String) -> [Ban]? {
        (try? BanFile.load(path: path))?.bans
    }

    @Test("a ban made before a restart still refuses by name and by address after it; /unban is saved too")
    func bansSurviveARestart() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"

        try await withTestServer({ $0.banFilePath = path }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            let bob = try await AbuseClient.loggedIn("bob", port: server.port, from: "127.0.0.2")
            alice.send("/ban bob flooding")
            #expect(try await bob.readToEnd().last == "! You were banned by alice: \"flooding\"")
            // Saved asynchronously: poll for it (bounded), never sleep a fixed time.
            try await eventually("the ban file to be written") { Self.savedBans(path)?.count == 1 }
            await alice.close()
        }
        let saved = try #require(Self.savedBans(path)?.first)
        #expect(saved.name == "bob")
        #expect(saved.address == "127.0.0.2")
        #expect(saved.bannedBy == "alice")
        #expect(saved.reason == "flooding")
        // Written atomically: only the file itself is left, no temporary beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["bans.json"])

        try await withTestServer({ $0.banFilePath = path }) { server in
            let byName = try await ModerationTests.nameRefused("BOB", port: server.port, from: "127.0.0.3")
            #expect(byName == "! The name BOB is not available; choose another.")
            let byAddress = try await ModerationTests.refusedAtAccept(
                port: server.tlsPort, from: "127.0.0.2", tls: .plain)
            #expect(byAddress == [])
            #expect(
                try await ModerationTests.refusedAtAccept(port: server.port, from: "127.0.0.2") == [
                    ModerationTests.addressBanned
                ])

            let alice = try await TestClient.loggedIn("alice", port: server.port)
            alice.send("/bans")
            #expect(try await alice.readUntil { $0.hasPrefix("* 1 ban") } == "* 1 ban:")
            #expect(try await alice.readLine()?.hasPrefix("*   #1 bob, by alice at ") == true)
            alice.send("/unban bob")
            #expect(try await alice.readLine() == "* Lifted the ban on bob.")
            try await eventually("the lifted ban to be saved") { Self.savedBans(path)?.isEmpty == true }
            await alice.close()
        }

        try await withTestServer({ $0.banFilePath = path }) { server in
            let bob = try await AbuseClient.loggedIn("bob", port: server.port, from: "127.0.0.2")
            await bob.close()
        }
    }

    @Test("a missing ban file is an empty list; the first ban creates it")
    func missingFileStartsEmpty() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/new-bans.json"
        try await withTestServer({ $0.banFilePath = path }) { server in
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            alice.send("/bans")
            #expect(try await alice.readUntil { $0.hasPrefix("* 0 bans") } == "* 0 bans.")
            #expect(!FileManager.default.fileExists(atPath: path))
            let bob = try await AbuseClient.loggedIn("bob", port: server.port, from: "127.0.0.2")
            let carol = try await AbuseClient.loggedIn("carol", port: server.port, from: "127.0.0.3")
            alice.send("/ban bob")
            _ = try await bob.readToEnd()
            alice.send("/ban carol second")
            _ = try await carol.readToEnd()
            // Both saves land; the later list wins.
            try await eventually("both bans saved") { Self.savedBans(path)?.map(\.name) == ["bob", "carol"] }
            await alice.close()
        }
    }

    @Test(
        "a corrupt ban file is reported by bind, naming the file, and is left as it was",
        arguments: [
            "{ this is not json",
            "",
            #"{"bans": 3}"#,
            #"{"bans": [{"name": "bob", "address": "127.0.0.2", "bannedBy": "alice"}]}"#,  // no bannedAt
            #"[]"#,
        ]
    )
    func corruptFileIsReported(contents: String) async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))

        let error = await #expect(throws: BanFile.LoadError.self) {
            try await withTestServer({ $0.banFilePath = path }) { _ in
                Issue.record("the server started with a corrupt ban file")
            }
        }
        #expect(error?.path == path)
        #expect(error?.description.contains(path) == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
    }

    @Test("a ban file that cannot be read (a directory) is reported by bind")
    func unreadableFileIsReported() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let error = await #expect(throws: BanFile.LoadError.self) {
            try await withTestServer({ $0.banFilePath = path }) { _ in
                Issue.record("the server started with an unreadable ban file")
            }
        }
        #expect(error?.path == path)
    }

    @Test("a valid file written by hand is loaded: its bans refuse at login")
    func handWrittenFileIsLoaded() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        let json = #"{"bans": [{"name": "mallory", "bannedBy": "admin", "bannedAt": 1700000000, "reason": "spam"}]}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        try await withTestServer({ $0.banFilePath = path }) { server in
            let refused = try await ModerationTests.nameRefused("Mallory", port: server.port, from: "127.0.0.2")
            #expect(refused == "! The name Mallory is not available; choose another.")
            let alice = try await AbuseClient.loggedIn("alice", port: server.port, from: "127.0.0.2")
            await alice.close()
        }
    }

    @Test("a name written in capitals in the ban file still bans that name, ignoring case")
    func handWrittenNameIgnoresCase() async throws {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        let json = #"{"bans": [{"name": "Mallory", "bannedBy": "admin", "bannedAt": 1700000000}]}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try BanFile.load(path: path).matching(name: "mallory", address: "192.0.2.1") != nil)
        try await withTestServer({ $0.banFilePath = path }) { server in
            let client = try await AbuseClient.connect(port: server.port, from: "127.0.0.2")
            try await client.readUntil { $0.hasPrefix("* Choose a username") }
            client.send("mallory")
            let answer = try await client.readUntil { $0.hasPrefix("! ") || $0.hasPrefix("* Welcome") }
            #expect(answer == "! The name mallory is not available; choose another.")
            await client.close()
        }
    }
}
