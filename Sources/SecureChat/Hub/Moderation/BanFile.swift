import Foundation

/// Keeps the ban list in a JSON file across restarts.
///
/// Writes are atomic and durable (see `save`). Saves run off the hub, in order: an older snapshot never
/// overwrites a newer one. `BanStore` owns the list and decides when to save.
public actor BanFile {
    public let path: String
    private var lastSavedVersion = 0

    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot read ban file \(path): \(reason)" }
    }

    public init(path: String) {
        self.path = path
    }

    /// The largest ban file read: 10,000 bans (`BanStore.defaultCapacity`) take about 3 MB of JSON.
    public static let maximumFileBytes = 16 << 20
    /// The longest reason a load error shows: a decoder's message can quote the file, which is not ours.
    static let maximumReasonLength = TextSanitizer.maximumShownLength

    /// What a load does when the file is not there.
    public enum MissingFile: Sendable {
        /// At start-up: no file yet is an empty list.
        case emptyList
        /// On a reload: the file was there and is gone (moved, deleted, a typo in a deploy); lifting every ban
        /// because of that would readmit everyone banned, so it is an error.
        case error
    }

    /// Reads the list. A missing file is an empty list or an error (`ifMissing`); an unreadable, oversized or
    /// corrupt one is an error, so the server never starts with half a ban list without saying so. The file is
    /// opened without following a link and read up to ``maximumFileBytes``.
    public static func load(path: String, ifMissing: MissingFile = .emptyList) throws -> BanList {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, maximumBytes: maximumFileBytes)
        } catch let error as FileSystem.ReadError {
            if ifMissing == .emptyList, !FileSystem.exists(path) { return BanList() }
            throw LoadError(path: path, reason: sanitized(error.reason))
        }
        do {
            let file = try JSONDecoder().decode(Contents.self, from: Data(bytes))
            // A file may be written by hand or by anyone who can write there: what `/bans` shows of it is
            // sanitised and bounded like anything a client sends.
            return BanList(file.bans.map(sanitized))
        } catch {
            throw LoadError(path: path, reason: "not a valid ban file (" + sanitized("\(error)") + ")")
        }
    }

    /// The ban with the words someone wrote into the file (name, who banned, reason) made safe to show.
    static func sanitized(_ ban: Ban) -> Ban {
        var ban = ban
        ban.name = ban.name.map(sanitized)
        ban.bannedBy = sanitized(ban.bannedBy)
        ban.reason = ban.reason.map(sanitized)
        return ban
    }

    /// Text fit for a log line or a terminal: controls and escapes removed, and cut to a bounded length.
    static func sanitized(_ reason: String) -> String {
        TextSanitizer.bounded(reason)
    }

    /// Writes `list` if `version` is newer than what was last written: to a new file beside it, fsync-ed,
    /// renamed over the old one, and the directory fsync-ed, so a crash or power cut leaves the old list or the
    /// new one, never half a list and never a rename the disk forgot.
    public func save(_ list: BanList, version: Int) throws {
        guard version > lastSavedVersion else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Contents(bans: list.bans))
        do {
            try FileSystem.writeFile(Array(data), to: path, mode: 0o600)
        } catch {
            throw LoadError(path: path, reason: "cannot write: \(error)")
        }
        lastSavedVersion = version
    }

    private struct Contents: Codable {
        var bans: [Ban]
    }
}
