import Foundation

/// Keeps the ban list in a JSON file across restarts.
///
/// Writes are atomic (a temporary file in the same directory, then `rename`), so a crash mid-write leaves the
/// old list, never half a list. Saves run off the hub, in order: an older snapshot never overwrites a newer one.
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

    /// Writes `list` if `version` is newer than what was last written.
    public func save(_ list: BanList, version: Int) throws {
        guard version > lastSavedVersion else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Contents(bans: list.bans))
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(version).tmp")
        try data.write(to: temporary)
        if rename(temporary.path, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw LoadError(path: path, reason: "rename failed: \(reason)")
        }
        lastSavedVersion = version
    }

    private struct Contents: Codable {
        var bans: [Ban]
    }
}
