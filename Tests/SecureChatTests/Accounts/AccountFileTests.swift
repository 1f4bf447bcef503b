import Foundation
import Logging
import Testing

@testable import SecureChat

/// `--account-file`: accounts kept in a JSON file, written durably; a corrupt file stops the server at start.
@Suite("Accounts: the account file", .timeLimit(.minutes(2)))
struct AccountFileTests {
    static let logger = Logger(label: "test")
    static let cheap = PasswordHasher(parameters: PasswordHashParameters(memoryKiB: 64, passes: 1, lanes: 1))
    static let fingerprint = String(repeating: "ab", count: 32)

    static func account(_ name: String, password: String? = "a long password") throws -> Account {
        let username = try Username.validate(name).get()
        return Account(
            name: username, hash: try password.map { try cheap.hash($0) }, certificates: [fingerprint],
            created: Timestamp(secondsSinceEpoch: 1_700_000_000))
    }

    @Test("a change is saved with mode 0600, nothing else left beside it, and loads back the same")
    func roundTrip() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/accounts.json"
        let store = try AccountStore.load(path: path, logger: Self.logger)
        #expect(store.list.count == 0)
        let alice = try Self.account("alice")
        #expect(store.register(alice) == .registered)
        #expect(store.register(try Self.account("AIice")) == .taken)
        store.update(key: alice.key) { $0.lastLogin = Timestamp(secondsSinceEpoch: 1_800_000_000) }
        _ = store.register(try Self.account("bob", password: nil))
        store.remove(key: "bob", holdUntil: Timestamp(secondsSinceEpoch: Int(Int32.max)))
        await store.save()
        try await eventually("the last change to be on disk") { (try? AccountFile.load(path: path)) == store.list }

        let loaded = try AccountFile.load(path: path)
        #expect(loaded.account(forKey: alice.key)?.lastLogin == Timestamp(secondsSinceEpoch: 1_800_000_000))
        #expect(loaded.held(forKey: "bob") != nil)
        #expect(AccountStore(loaded, logger: Self.logger).status(ofKey: Username.key(for: "B0B")) == .held)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // Written atomically: once the writes are done, only the file itself is left, no temporary beside it.
        try await eventually("the writes to finish") {
            try FileManager.default.contentsOfDirectory(atPath: directory) == ["accounts.json"]
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"version\" : 1"))
        #expect(text.contains("$argon2id$v=19$m=64,t=1,p=1$"))
    }

    @Test("many changes in a row end with the newest list on disk")
    func coalescedWrites() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/accounts.json"
        let store = try AccountStore.load(path: path, logger: Self.logger)
        let alice = try Self.account("alice")
        _ = store.register(alice)
        for second in 1...500 {
            store.update(key: alice.key) { $0.lastLogin = Timestamp(secondsSinceEpoch: second) }
        }
        try await eventually("the newest change to be on disk") {
            (try? AccountFile.load(path: path))?.account(forKey: alice.key)?.lastLogin?.secondsSinceEpoch == 500
        }
    }

    static let validHash = "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"

    static func entry(_ name: String, key: String? = nil, hash: String? = validHash, certificates: String = "[]")
        -> String
    {
        let hashField = hash.map { "\"\($0)\"" } ?? "null"
        return """
            {"name": "\(name)", "key": "\(key ?? Username.key(for: name))", "hash": \(hashField), \
            "certificates": \(certificates), "created": 1700000000}
            """
    }

    @Test(
        "a corrupt file is refused, naming the path and the reason",
        arguments: [
            ("{", "not a valid account file"),
            (#"{"version": 2, "accounts": [], "held": []}"#, "version 2 is not 1"),
            (#"{"version": 1, "accounts": [\#(entry("bad name"))], "held": []}"#, "account bad name: not a valid name"),
            (#"{"version": 1, "accounts": [\#(entry("alice", key: "bob"))], "held": []}"#, "is not its look-alike key"),
            (
                #"{"version": 1, "accounts": [\#(entry("alice", hash: "$2b$10$abc"))], "held": []}"#,
                "not an argon2id hash"
            ),
            (
                #"{"version": 1, "accounts": [\#(entry("alice", certificates: "[\"zz\"]"))], "held": []}"#,
                "fingerprint is not"
            ),
            (#"{"version": 1, "accounts": [\#(entry("alice")), \#(entry("AIice"))], "held": []}"#, "in the file twice"),
            (
                #"{"version": 1, "accounts": [\#(entry("alice"))], "held": [{"name": "ALICE", "key": "allce", "until": 1}]}"#,
                "in the file twice"
            ),
        ])
    func corrupt(_ contents: String, _ reason: String) throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/accounts.json"
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        do {
            _ = try AccountFile.load(path: path)
            Issue.record("loaded")
        } catch let error as AccountFile.LoadError {
            #expect(error.description.hasPrefix("cannot read account file \(path): "))
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test("securechatd with a corrupt --account-file does not start, and says which file and why")
    func daemonRefusesACorruptFile() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/accounts.json"
        try #"{"version": 1, "accounts": [}"#.write(toFile: path, atomically: false, encoding: .utf8)
        let result = try await ProcessRunner.runToEnd(
            DaemonProcess.executable,
            ["--host", "127.0.0.1", "--log-level", "critical", "--port", "0", "--no-tls", "--account-file", path])
        #expect(result.status == 1)
        #expect(result.output.hasPrefix("Error: cannot read account file \(path): not a valid account file"))
    }

    @Test("account-file from a configuration file: --check-config reads it, and a corrupt one is named with its reason")
    func checkConfig() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/accounts.json"
        let config = directory + "/securechat.yaml"
        try "account-file: \(path)\noperator-account: [boss]\nclient-certs: any\n".write(
            toFile: config, atomically: false, encoding: .utf8)
        let run = {
            try await ProcessRunner.runToEnd(
                DaemonProcess.executable, ["--config", config, "--check-config", "--no-tls", "--log-level", "critical"])
        }
        let fine = try await run()
        #expect(fine.status == 0, "\(fine.output)")
        #expect(fine.output.contains("account-file"), "\(fine.output)")
        try #"{"version": 1, "accounts": [}"#.write(toFile: path, atomically: false, encoding: .utf8)
        let corrupt = try await run()
        #expect(corrupt.status != 0)
        #expect(
            corrupt.output.contains("cannot read account file \(path): not a valid account file"), "\(corrupt.output)")
    }

    @Test("--account-file with --cluster is a usage error")
    func notInACluster() throws {
        var configuration = Configuration()
        configuration.accountFilePath = "/tmp/accounts.json"
        configuration.cluster = ClusterConfiguration(url: "postgres://u@localhost/db", nodeName: "a")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
