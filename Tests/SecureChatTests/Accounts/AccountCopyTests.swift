import Logging
import Testing

@testable import SecureChat

/// A cluster node's copy of the accounts: changes read from the database in revision order, and the node's own
/// writes, which may arrive before or after the read of them.
@Suite("Accounts: a cluster node's copy")
struct AccountCopyTests {
    static func account(_ name: String, created: Int = 1) throws -> Account {
        Account(
            name: try Username.validate(name).get(), hash: nil, certificates: [String(repeating: "a", count: 64)],
            created: Timestamp(secondsSinceEpoch: created))
    }

    @Test("a change older than one already applied to its key is skipped; removals and holds are applied")
    func revisionsPerKey() throws {
        let store = AccountStore(logger: Logger(label: "test"))
        let alice = try Self.account("alice")
        let newer = try Self.account("alice", created: 2)
        store.apply([AccountChange(key: alice.key, account: newer, held: nil, revision: 5)])
        store.apply([AccountChange(key: alice.key, account: alice, held: nil, revision: 4)])
        #expect(store.list.account(forKey: alice.key) == newer)
        let hold = HeldName(name: "alice", key: alice.key, until: Timestamp(secondsSinceEpoch: Int(Int32.max)))
        store.apply([AccountChange(key: alice.key, account: nil, held: hold, revision: 6)])
        #expect(store.status(ofKey: alice.key) == .held)
        store.apply([AccountChange(key: alice.key, account: nil, held: nil, revision: 7)])
        #expect(store.status(ofKey: alice.key) == .unregistered)
        #expect(store.revision == 7)
    }

    @Test("the node's own write shows at once but does not move the next read past changes not yet read")
    func ownWrites() throws {
        let store = AccountStore(logger: Logger(label: "test"))
        let bob = try Self.account("bob")
        store.apply([AccountChange(key: "x", account: nil, held: nil, revision: 3)])
        store.applyOwnWrite(AccountChange(key: bob.key, account: bob, held: nil, revision: 9))
        #expect(store.list.account(forKey: bob.key) == bob)
        // Revisions 4 to 8 (other nodes' changes) are still to be read.
        #expect(store.revision == 3)
        // Reading revision 9 again changes nothing.
        store.apply([AccountChange(key: bob.key, account: bob, held: nil, revision: 9)])
        #expect(store.revision == 9)
        #expect(store.list.account(forKey: bob.key) == bob)
    }

    @Test("a copy read afresh replaces the old one whole: an account removed meanwhile is gone")
    func replacedWhole() throws {
        let store = AccountStore(logger: Logger(label: "test"))
        let alice = try Self.account("alice")
        let bob = try Self.account("bob")
        store.apply([
            AccountChange(key: alice.key, account: alice, held: nil, revision: 1),
            AccountChange(key: bob.key, account: bob, held: nil, revision: 2),
        ])
        store.replaceCopy(with: [AccountChange(key: bob.key, account: bob, held: nil, revision: 2)])
        #expect(store.status(ofKey: alice.key) == .unregistered)
        #expect(store.list.account(forKey: bob.key) == bob)
        #expect(store.revision == 2)
    }
}
