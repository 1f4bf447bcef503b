import Logging
import NIOConcurrencyHelpers

/// The one owner of the server's bans: the list, its cap, its versions, and saving it to the ban file.
///
/// Thread-safe behind one lock, so the accept path can refuse a banned address before any TLS handshake or
/// session exists, without a trip through the hub. The hub changes bans through here and disconnects whoever
/// a new ban matches.
///
/// Every change bumps the version and starts a save of that version; the ban file writes versions in order
/// and never an older one over a newer one. `save()` waits until the newest version is on disk (shutdown, and
/// the second Ctrl-C). A reload merges the file with what is not saved yet, so a SIGHUP never loses a ban an
/// operator just made.
public final class BanStore: Sendable {
    /// Most bans the list holds; past it `/ban` says so instead of growing the list without bound.
    public static let defaultCapacity = 10_000
    /// Bans per `/bans` page.
    public static let pageSize = 50

    private struct State {
        var list: BanList
        /// What the file holds as far as this store knows: the list loaded or last saved.
        var onDisk: BanList
        var version = 0
        var savedVersion = 0
        /// The `#N` handles `/bans` showed, by target and back: stable while the ban exists, never reused.
        var handles: [Ban.Target: Int] = [:]
        var targetsByHandle: [Int: Ban.Target] = [:]
        var nextHandle = 1
    }

    private let state: NIOLockedValueBox<State>
    private let file: BanFile?
    public let capacity: Int
    private let logger: Logger

    public init(_ list: BanList = BanList(), file: BanFile? = nil, capacity: Int = defaultCapacity, logger: Logger) {
        self.state = NIOLockedValueBox(State(list: list, onDisk: list))
        self.file = file
        self.capacity = capacity
        self.logger = logger
    }

    /// Loads `path` (a missing file is an empty list; a corrupt one throws, naming the path).
    public static func load(path: String, capacity: Int = defaultCapacity, logger: Logger) throws -> BanStore {
        BanStore(try BanFile.load(path: path), file: BanFile(path: path), capacity: capacity, logger: logger)
    }

    public var list: BanList { state.withLockedValue { $0.list } }

    public func matching(name: String) -> Ban? {
        state.withLockedValue { $0.list.matching(name: name) }
    }

    public func matching(address: IPAddress) -> Ban? {
        state.withLockedValue { $0.list.matching(address: address) }
    }

    public func matching(address: String) -> Ban? {
        IPAddress(address).flatMap(matching(address:))
    }

    public enum AddOutcome: Sendable, Equatable {
        case added
        /// The list holds `capacity` bans already.
        case full
    }

    public func add(_ ban: Ban) -> AddOutcome {
        let added: Bool = state.withLockedValue { state in
            guard state.list.count < capacity else { return false }
            state.list.add(ban)
            state.version += 1
            return true
        }
        guard added else { return .full }
        scheduleSave()
        return .added
    }

    /// Lifts the bans on a name, an address or a network (see `BanList.remove(matching:includingNamed:)`).
    public func remove(matching target: String, includingNamed: Bool = true) -> [Ban] {
        let removed: [Ban] = state.withLockedValue { state in
            let removed = state.list.remove(matching: target, includingNamed: includingNamed)
            if !removed.isEmpty { state.version += 1 }
            Self.forgetHandles(of: removed, in: &state)
            return removed
        }
        if !removed.isEmpty { scheduleSave() }
        return removed
    }

    /// Lifts the ban `/bans` showed as `#handle`; nothing for a handle it never showed or whose ban is gone.
    public func remove(handle: Int) -> [Ban] {
        let removed: [Ban] = state.withLockedValue { state in
            guard let target = state.targetsByHandle[handle] else { return [] }
            let removed = state.list.remove(target: target)
            if !removed.isEmpty { state.version += 1 }
            state.targetsByHandle[handle] = nil
            state.handles[target] = nil
            return removed
        }
        if !removed.isEmpty { scheduleSave() }
        return removed
    }

    /// The `#N` handles of `bans` (as `page` listed them), given out on first showing. The table is bounded:
    /// past twice the list's cap, handles of bans no longer in the list are forgotten.
    public func handles(of bans: [Ban]) -> [Int] {
        state.withLockedValue { state in
            if state.handles.count + bans.count > 2 * capacity {
                let present = state.list.targets
                state.handles = state.handles.filter { present.contains($0.key) }
                state.targetsByHandle = state.targetsByHandle.filter { present.contains($0.value) }
            }
            return bans.map { ban in
                if let handle = state.handles[ban.target] { return handle }
                let handle = state.nextHandle
                state.nextHandle += 1
                state.handles[ban.target] = handle
                state.targetsByHandle[handle] = ban.target
                return handle
            }
        }
    }

    private static func forgetHandles(of removed: [Ban], in state: inout State) {
        for ban in removed {
            if let handle = state.handles.removeValue(forKey: ban.target) { state.targetsByHandle[handle] = nil }
        }
    }

    /// One page of `/bans` (numbered from 1), the number of pages, and the number of bans.
    public func page(_ number: Int) -> (bans: [Ban], pages: Int, total: Int) {
        state.withLockedValue { state in
            let bans = state.list.bans
            let pages = max(1, (bans.count + Self.pageSize - 1) / Self.pageSize)
            // The page number is a client's: check it against the page count before any arithmetic on it, so
            // `/bans 9223372036854775807` is an empty page and not an overflow trap.
            guard number >= 1, number <= pages else { return ([], pages, bans.count) }
            let start = (number - 1) * Self.pageSize
            guard start < bans.count else { return ([], pages, bans.count) }
            return (Array(bans[start..<min(bans.count, start + Self.pageSize)]), pages, bans.count)
        }
    }

    /// Reads the ban file again and replays on it what changed here since the last save (bans made and bans
    /// lifted, which the file cannot know yet), so a SIGHUP never loses either. Returns the bans whose targets
    /// are new, so the caller can disconnect whoever they match. A missing, unreadable or bad file throws and
    /// changes nothing (the caller logs it): a file moved away must not lift every ban. The file is read under
    /// the lock, so a save that completes meanwhile cannot slip between the read and the merge; it is bounded
    /// by `BanFile.maximumFileBytes`.
    public func reload() throws -> [Ban] {
        guard let file else { return [] }
        let (brought, unsaved): ([Ban], Bool) = try state.withLockedValue { state in
            let loaded = try BanFile.load(path: file.path, ifMissing: .error)
            let before = state.list.targets
            let onDisk = state.onDisk.targets
            let added = state.list.bans.filter { !onDisk.contains($0.target) }
            let removed = onDisk.subtracting(before)
            let unsaved = !added.isEmpty || !removed.isEmpty
            state.list = loaded.replaying(added: added, removed: removed)
            state.onDisk = loaded
            state.version += 1
            // Without unsaved changes the list is the file's: nothing to write back.
            if !unsaved { state.savedVersion = state.version }
            return (state.list.bans.filter { !before.contains($0.target) }, unsaved)
        }
        if unsaved { scheduleSave() }
        return brought
    }

    /// Replaces the whole list with `bans` (a cluster node reading the database's list, which is the truth
    /// there: no file is written). Returns the bans whose targets are new, to disconnect whoever they match.
    public func replace(with bans: [Ban]) -> [Ban] {
        let list = BanList(Array(bans.prefix(capacity)))
        return state.withLockedValue { state in
            let before = state.list.targets
            state.list = list
            state.version += 1
            return list.bans.filter { !before.contains($0.target) }
        }
    }

    /// Writes the newest version now and returns once it is on disk (or the write failed, which is logged).
    public func save() async {
        guard let file else { return }
        let (list, version) = state.withLockedValue { ($0.list, $0.version) }
        await write(list, version: version, to: file)
    }

    private func scheduleSave() {
        guard let file else { return }
        let (list, version) = state.withLockedValue { ($0.list, $0.version) }
        Task { await self.write(list, version: version, to: file) }
    }

    private func write(_ list: BanList, version: Int, to file: BanFile) async {
        do {
            try await file.save(list, version: version)
            state.withLockedValue { state in
                guard version > state.savedVersion else { return }
                state.savedVersion = version
                state.onDisk = list
            }
        } catch {
            logger.error("could not save the ban file", metadata: ["error": "\(error)"])
        }
    }
}
