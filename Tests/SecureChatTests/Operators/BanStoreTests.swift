import Foundation
import Logging
import Testing

@testable import SecureChat

/// The ban list and its store: matching by skeleton and by network, the cap, pages, reload and saving.
@Suite("Operators: the ban store")
struct BanStoreTests {
    private static var logger: Logger {
        var logger = Logger(label: "ban-store-test")
        logger.logLevel = .critical
        return logger
    }

    private static func ban(name: String? = nil, network: String? = nil, by: String = "alice") throws -> Ban {
        Ban(name: name, network: try network.map(IPNetwork.init), bannedBy: by, bannedAt: .now(), reason: nil)
    }

    @Test(
        "addresses match bans on their network: IPv6 by /64, networks of any length, IPv4-mapped as IPv4",
        arguments: [
            ("2001:db8::5", "2001:db8::ffff:1", true),
            ("2001:db8::5", "2001:db8:0:1::5", false),
            ("2001:db8::/48", "2001:db8:0:ffff::1", true),
            ("203.0.113.0/24", "203.0.113.77", true),
            ("203.0.113.0/24", "203.0.114.1", false),
            ("127.0.0.2", "::ffff:127.0.0.2", true),
            ("127.0.0.2", "127.0.0.3", false),
        ]
    )
    func networkMatching(banned: String, address: String, matches: Bool) throws {
        let list = BanList([try Self.ban(network: banned)])
        #expect((list.matching(address: address) != nil) == matches)
    }

    @Test("names match by skeleton: a ban on bob refuses B0B")
    func skeletonMatching() throws {
        let list = BanList([try Self.ban(name: "bob")])
        #expect(list.matching(name: "B0B") != nil)
        #expect(list.matching(name: "rob") == nil)
    }

    @Test("/unban takes a name, an address or a network, and lifts only that ban")
    func removal() throws {
        var list = BanList([
            try Self.ban(name: "bob", network: "127.0.0.2"), try Self.ban(network: "2001:db8::/48"),
            try Self.ban(name: "eve"),
        ])
        #expect(list.remove(matching: "2001:db8::/48").count == 1)
        #expect(list.remove(matching: "2001:db8::/48").isEmpty)
        #expect(list.remove(matching: "127.0.0.2").map(\.name) == ["bob"])
        #expect(list.remove(matching: "EVE").count == 1)
        #expect(list.count == 0)
    }

    @Test("the list is capped: past the cap a ban is refused and nothing changes")
    func cap() throws {
        let store = BanStore(capacity: 3, logger: Self.logger)
        for number in 1...3 { #expect(store.add(try Self.ban(name: "user\(number)")) == .added) }
        #expect(store.add(try Self.ban(name: "user4")) == .full)
        #expect(store.list.count == 3)
    }

    @Test("/bans pages hold 50 bans each")
    func pages() throws {
        let store = BanStore(logger: Self.logger)
        for number in 1...120 { _ = store.add(try Self.ban(name: "user\(number)")) }
        let first = store.page(1)
        #expect(first.bans.count == 50)
        #expect(first.pages == 3)
        #expect(first.total == 120)
        #expect(store.page(3).bans.count == 20)
        #expect(store.page(3).bans.last?.name == "user120")
        #expect(store.page(4).bans.isEmpty)
    }

    @Test(
        "a page number from a client cannot trap: Int.max, Int.min and 0 are empty pages",
        arguments: [
            Int.max, Int.min, 0, -1, Int.max / BanStore.pageSize + 2,
        ])
    func extremePageNumbers(number: Int) throws {
        let store = BanStore(logger: Self.logger)
        for index in 1...60 { _ = store.add(try Self.ban(name: "user\(index)")) }
        let page = store.page(number)
        #expect(page.bans.isEmpty)
        #expect(page.pages == 2)
        #expect(page.total == 60)
    }

    @Test("a reload merges the file with bans not saved yet and reports what it brought in")
    func reloadMerges() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        let store = try BanStore.load(path: path, logger: Self.logger)
        _ = store.add(try Self.ban(name: "bob"))
        await store.save()
        #expect(try BanFile.load(path: path).count == 1)

        // An operator edits the file (adds carol) while a ban on dave is made and not saved yet.
        let edited =
            #"{"bans": [{"name": "bob", "bannedBy": "alice", "bannedAt": 1}, "#
            + #"{"name": "carol", "bannedBy": "admin", "bannedAt": 2}]}"#
        try Data(edited.utf8).write(to: URL(fileURLWithPath: path))
        let unsaved = BanStore(try BanFile.load(path: path), file: BanFile(path: path), logger: Self.logger)
        _ = unsaved.add(try Self.ban(name: "dave"))
        // Reloading before dave's save reached the disk must keep dave.
        let brought = try unsaved.reload()
        #expect(unsaved.matching(name: "dave") != nil)
        #expect(unsaved.matching(name: "carol") != nil)
        #expect(brought.isEmpty)
        await unsaved.save()
        #expect(try BanFile.load(path: path).matching(name: "dave") != nil)
        // Reloading a file that brings new bans reports them.
        let brought2 = try store.reload()
        #expect(brought2.compactMap(\.name).sorted() == ["carol", "dave"])
    }

    @Test("a reload keeps a ban lifted here that the file still holds (the lift was not saved yet)")
    func reloadKeepsUnsavedLifts() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        let store = try BanStore.load(path: path, logger: Self.logger)
        _ = store.add(try Self.ban(name: "bob"))
        _ = store.add(try Self.ban(name: "carol"))
        await store.save()
        #expect(store.remove(matching: "bob").count == 1)
        // Whether or not the lift reached the disk yet, the reload must not bring bob back.
        let brought = try store.reload()
        #expect(brought.isEmpty)
        #expect(store.matching(name: "bob") == nil)
        #expect(store.matching(name: "carol") != nil)
        await store.save()
        #expect(try BanFile.load(path: path).matching(name: "bob") == nil)
    }

    @Test("saving writes the file with mode 0600 and leaves no temporary file")
    func saving() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bans.json"
        let store = try BanStore.load(path: path, logger: Self.logger)
        _ = store.add(try Self.ban(name: "bob", network: "2001:db8::/48"))
        await store.save()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["bans.json"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try BanFile.load(path: path).bans.first?.address == "2001:db8::/48")
    }
}
