import Foundation
import Logging
import Testing

@testable import SecureChat

/// A ban file that is gone, unreadable or hostile on SIGHUP keeps the bans in force and says why (issue 24,
/// point 7).
@Suite("Operators: reloading a missing or hostile ban file")
struct BanFileReloadSafetyTests {
    private static var logger: Logger {
        var logger = Logger(label: "ban-reload-test")
        logger.logLevel = .critical
        return logger
    }

    /// A store with a ban on 192.0.2.7 saved to its file.
    private func storeWithASavedBan(in directory: String) async throws -> (BanStore, String) {
        let path = directory + "/bans.json"
        let store = try BanStore.load(path: path, logger: Self.logger)
        let ban = Ban(
            name: "mallory", network: try IPNetwork("192.0.2.7"), bannedBy: "alice", bannedAt: .now(), reason: nil
        )
        #expect(store.add(ban) == .added)
        await store.save()
        #expect(FileManager.default.fileExists(atPath: path))
        return (store, path)
    }

    @Test("a ban file moved away: the reload fails, naming the file, and every ban stays")
    func aMissingFileKeepsTheBans() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, path) = try await storeWithASavedBan(in: directory)
        try FileManager.default.moveItem(atPath: path, toPath: directory + "/moved.json")

        let error = #expect(throws: BanFile.LoadError.self) { try store.reload() }
        #expect(error?.path == path)
        #expect(store.matching(address: "192.0.2.7") != nil, "the banned address stays banned")
        #expect(store.matching(name: "mallory") != nil)
    }

    @Test("a ban file replaced by a directory: the reload fails and the bans stay")
    func anUnreadableFileKeepsTheBans() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, path) = try await storeWithASavedBan(in: directory)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: BanFile.LoadError.self) { try store.reload() }
        #expect(store.matching(address: "192.0.2.7") != nil)
    }

    @Test("a ban file over the size cap is refused, not read")
    func anOversizedFileIsRefused() throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(BanFile.maximumFileBytes + 1)) == 0)
        let error = #expect(throws: BanFile.LoadError.self) { try BanFile.load(path: path) }
        #expect(error?.reason.contains("larger than") == true, "\(String(describing: error))")
    }

    @Test("what the file says is sanitised: no escape sequence reaches /bans or the log")
    func contentIsSanitised() throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        let json =
            #"{"bans": [{"name": "mallory", "bannedBy": "ad\u001b[2Jmin", "bannedAt": 1, "#
            + #""reason": "\u001b]0;pwned\u0007spam\u202e"}]}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        let ban = try #require(try BanFile.load(path: path).bans.first)
        #expect(ban.bannedBy == "ad[2Jmin")
        #expect(ban.reason == "]0;pwnedspam")

        // A decoding error quotes the file: its escapes are removed from the message too.
        let hostile = #"{"bans": [{"\u001b[31mname": 3, "bannedBy": "x", "bannedAt": "\u001b[2J"}]}"#
        try Data(hostile.utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: BanFile.LoadError.self) { try BanFile.load(path: path) }
        #expect(error?.description.unicodeScalars.contains { $0.value == 0x1B } == false)
        #expect((error?.reason.count ?? 0) <= BanFile.maximumReasonLength + 100)
    }
}
