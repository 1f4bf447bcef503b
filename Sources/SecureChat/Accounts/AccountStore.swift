import Logging
import NIOConcurrencyHelpers

/// The one owner of the accounts on this node: the list, and saving it to the account file. In a cluster the
/// database is the owner (``AccountDatabase``) and this is its copy, brought up to date by ``apply(_:)``.
///
/// Thread-safe behind one lock (never held across a hash or a write). Every change marks the list dirty and
/// makes sure one writer is running; the writer saves the newest list, and again while changes keep coming, so
/// a log-in storm (each log-in records its time) costs a few writes, not one per log-in, and an older list is
/// never written over a newer one.
public final class AccountStore: Sendable {
    /// Most accounts the file may hold; past it `/register` says so.
    public static let defaultCapacity = 100_000

    private struct State {
        var list: AccountList
        var dirty = false
        var writing = false
        /// Bumped at every change, so `save()` knows when what it asked for is on disk.
        var version = 0
        var savedVersion = 0
        /// In a cluster: the revision of each key's last change applied, and the highest revision applied.
        var revisions: [String: Int64] = [:]
        var revision: Int64 = 0
    }

    private let state: NIOLockedValueBox<State>
    private let file: AccountFile?
    public let capacity: Int
    private let logger: Logger

    public init(
        _ list: AccountList = AccountList(), file: AccountFile? = nil, capacity: Int = defaultCapacity, logger: Logger
    ) {
        self.state = NIOLockedValueBox(State(list: list))
        self.file = file
        self.capacity = capacity
        self.logger = logger
    }

    /// Loads `path` (a missing file is no accounts; a corrupt one throws, naming the path and the reason).
    public static func load(path: String, logger: Logger) throws -> AccountStore {
        AccountStore(try AccountFile.load(path: path), file: AccountFile(path: path), logger: logger)
    }

    public var list: AccountList { state.withLockedValue { $0.list } }

    /// What a name someone typed is, by its look-alike key.
    public enum Status: Sendable, Equatable {
        case unregistered
        /// Given up with `/unregister`, and unclaimable until its hold ends.
        case held
        case registered(Account)
    }

    public func status(ofKey key: String, now: Timestamp = .now()) -> Status {
        state.withLockedValue { state in
            if let account = state.list.account(forKey: key) { return .registered(account) }
            if let held = state.list.held(forKey: key), held.until > now { return .held }
            return .unregistered
        }
    }

    public enum RegisterOutcome: Sendable, Equatable {
        case registered
        case taken
        case held
        case full
    }

    public func register(_ account: Account, now: Timestamp = .now()) -> RegisterOutcome {
        change { list in
            if list.account(forKey: account.key) != nil { return .taken }
            if let held = list.held(forKey: account.key), held.until > now { return .held }
            guard list.count < capacity else { return .full }
            _ = list.releaseHolds(endedBy: now)
            list.insert(account)
            return .registered
        } changed: {
            $0 == .registered
        }
    }

    /// Applies `change` to the account under `key`, if there is one; true if there was.
    @discardableResult
    public func update(key: String, _ change: @Sendable (inout Account) -> Void) -> Bool {
        self.change { list in
            guard list.account(forKey: key) != nil else { return false }
            list.update(key: key, change)
            return true
        } changed: {
            $0
        }
    }

    /// Removes the account under `key`; with `holdUntil`, its name stays unclaimable until then.
    @discardableResult
    public func remove(key: String, holdUntil: Timestamp? = nil) -> Account? {
        change { list in
            guard let account = list.remove(key: key) else { return nil }
            if let holdUntil { list.hold(HeldName(name: account.name, key: account.key, until: holdUntil)) }
            return account
        } changed: {
            $0 != nil
        }
    }

    /// The highest database revision applied (in a cluster): the next read of changes starts after it.
    public var revision: Int64 { state.withLockedValue { $0.revision } }

    /// Applies changes read from the cluster's database, in revision order: the next read starts after the
    /// last. A change older than one already applied to its key is skipped: a node's own write and the read of
    /// it can arrive in either order.
    public func apply(_ changes: [AccountChange]) {
        state.withLockedValue { Self.apply(changes, to: &$0) }
    }

    /// Applies a change this node has just written, so that its user sees it at once. It does not move the
    /// next read on: changes other nodes committed before it may not have been read yet.
    public func applyOwnWrite(_ change: AccountChange) {
        state.withLockedValue { state in
            guard change.revision > state.revisions[change.key, default: 0] else { return }
            state.revisions[change.key] = change.revision
            state.list.replace(key: change.key, account: change.account, held: change.held)
        }
    }

    private static func apply(_ changes: [AccountChange], to state: inout State) {
        for change in changes {
            state.revision = max(state.revision, change.revision)
            guard change.revision > state.revisions[change.key, default: 0] else { continue }
            state.revisions[change.key] = change.revision
            state.list.replace(key: change.key, account: change.account, held: change.held)
        }
    }

    /// Replaces the whole copy with `changes` (every account the database has), at once: a look-up never sees
    /// the copy half-loaded.
    public func replaceCopy(with changes: [AccountChange]) {
        state.withLockedValue { state in
            state.list = AccountList()
            state.revisions = [:]
            state.revision = 0
            Self.apply(changes, to: &state)
        }
    }

    private func change<Result>(_ body: (inout AccountList) -> Result, changed: (Result) -> Bool) -> Result {
        let (result, startWriter): (Result, Bool) = state.withLockedValue { state in
            let result = body(&state.list)
            guard changed(result) else { return (result, false) }
            state.version += 1
            state.dirty = true
            guard !state.writing, file != nil else { return (result, false) }
            state.writing = true
            return (result, true)
        }
        if startWriter { Task { await self.writeWhileDirty() } }
        return result
    }

    /// Writes the newest list until nothing changed during the last write.
    private func writeWhileDirty() async {
        guard let file else { return }
        while true {
            let next: (AccountList, Int)? = state.withLockedValue { state in
                guard state.dirty else {
                    state.writing = false
                    return nil
                }
                state.dirty = false
                return (state.list, state.version)
            }
            guard let (list, version) = next else { return }
            do {
                try await file.save(list)
                state.withLockedValue { $0.savedVersion = max($0.savedVersion, version) }
            } catch {
                logger.error("could not save the account file", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Returns once every change made so far is on disk (or its write failed, which is logged): at shutdown.
    public func save() async {
        guard let file else { return }
        let (list, version, saved) = state.withLockedValue { ($0.list, $0.version, $0.savedVersion) }
        guard version > saved else { return }
        do {
            try await file.save(list)
            state.withLockedValue { $0.savedVersion = max($0.savedVersion, version) }
        } catch {
            logger.error("could not save the account file", metadata: ["error": "\(error)"])
        }
    }
}

/// One account's state after a change in the cluster's database: its account, or the hold on its name, or
/// neither (dropped, or the hold ended).
public struct AccountChange: Sendable, Equatable {
    public let key: String
    public let account: Account?
    public let held: HeldName?
    public let revision: Int64

    public init(key: String, account: Account?, held: HeldName?, revision: Int64) {
        self.key = key
        self.account = account
        self.held = held
        self.revision = revision
    }
}
