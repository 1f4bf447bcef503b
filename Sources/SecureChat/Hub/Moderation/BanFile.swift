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

    /// Reads the list. A missing file is an empty list; an unreadable or corrupt one is an error, so the server
    /// never starts with half a ban list without saying so.
    public static func load(path: String) throws -> BanList {
        guard FileManager.default.fileExists(atPath: path) else { return BanList() }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LoadError(path: path, reason: "\(error.localizedDescription)")
        }
        do {
            let file = try JSONDecoder().decode(Contents.self, from: data)
            return BanList(file.bans)
        } catch {
            throw LoadError(path: path, reason: "not a valid ban file (\(error))")
        }
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
