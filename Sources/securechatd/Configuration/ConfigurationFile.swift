import Configuration
import Foundation
import Yams

/// The configuration file (`--config`), read once: its values for swift-configuration, and from the YAML nodes
/// (Yams' `compose`) what the library does not keep: the line of each key, the text of each value, and the keys
/// that are not settings.
struct ConfigurationFile: Sendable {
    /// A file larger than this is not a configuration file (every key at its default takes about 8 KiB).
    static let maximumBytes = 1 << 20

    /// The path as given; errors and origins start with it.
    let path: String
    /// The values, for the reader (keys set to null are left out: they mean "the default").
    let provider: SnapshotProvider
    /// The line of each key.
    let lines: [String: Int]
    /// Each value as the file writes it, for errors: `"lots"`, `a list`, `a mapping`.
    let shownValues: [String: String]
    /// Unknown keys, keys given twice, values that are mappings: each one line, with the file's name and line.
    let problems: [String]

    /// Reads and parses the file; throws one line naming the file when it cannot be read or is not YAML/JSON.
    static func load(path: String) throws -> ConfigurationFile {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigurationProblems(["\(path): cannot be read (\(String(cString: strerror(errno))))"])
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumBytes + 1)) ?? Data()
        guard data.count <= maximumBytes else {
            throw ConfigurationProblems(["\(path): larger than \(maximumBytes) bytes"])
        }
        let text = String(decoding: data, as: UTF8.self)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let reason = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "not YAML"
            throw ConfigurationProblems(["\(path): \(reason)"])
        }
        return try ConfigurationFile(path: path, root: root, isJSON: path.lowercased().hasSuffix(".json"), data: data)
    }

    private init(path: String, root: Node?, isJSON: Bool, data: Data) throws {
        self.path = path
        var lines: [String: Int] = [:]
        var shown: [String: String] = [:]
        var problems: [String] = []
        var kept: [(Node, Node)] = []
        // The values' bytes once aliases are expanded: a small file of aliases to a long text (a "YAML bomb") must
        // not become gigabytes when the kept values are handed on.
        var expandedBytes = 0
        let names = ConfigurationKey.all.map(\.name)
        if let root, root.mapping == nil {
            throw ConfigurationProblems(["\(path): expected a mapping of keys to values, such as max-line: 4096"])
        }
        for (keyNode, value) in root?.mapping ?? [:] {
            let line = keyNode.mark?.line ?? 0
            guard let name = keyNode.scalar?.string else {
                problems.append("\(path):\(line): a key must be a name, such as max-line")
                continue
            }
            guard let key = ConfigurationKey.named(name) else {
                let shownName = ShownValue.quoted(name, secret: false).dropFirst().dropLast()
                problems.append(
                    "\(path):\(line): unknown key \(shownName)\(KeySuggestion.hint(for: name, among: names))")
                continue
            }
            if let first = lines[name] {
                problems.append("\(path):\(line): \(name) given twice (first on line \(first))")
                continue
            }
            lines[name] = line
            if value.null != nil { continue }  // `key:` or `key: null` is the default
            switch value {
            case .scalar(let scalar):
                shown[name] = ShownValue.quoted(scalar.string, secret: key.isSecret)
            case .sequence(let sequence):
                shown[name] = "a list"
                if sequence.contains(where: { $0.scalar == nil }) {
                    problems.append("\(path):\(line): \(name): expected \(key.rule.expectation), got a nested list")
                    continue
                }
            case .mapping:
                problems.append("\(path):\(line): \(name): expected \(key.rule.expectation), got a mapping")
                continue
            case .alias:
                problems.append("\(path):\(line): \(name): aliases are not supported")
                continue
            }
            let bytes = (value.sequence.map(Array.init) ?? [value]).reduce(0) {
                $0 + ($1.scalar?.string.utf8.count ?? 0) + 8
            }
            expandedBytes += bytes
            guard expandedBytes <= Self.maximumBytes else {
                problems.append(
                    "\(path):\(line): \(name): the values expand past \(Self.maximumBytes) bytes (aliases?)")
                break
            }
            kept.append((keyNode, value))
        }
        self.lines = lines
        self.shownValues = shown
        self.problems = problems
        // The values the reader sees: what was kept, without nulls, unknown keys or mappings. JSON goes to the
        // library's JSON parser as written (it skips nulls itself); YAML as the kept nodes, serialized again.
        let snapshot: any ConfigSnapshot
        do {
            if isJSON {
                snapshot = try JSONSnapshot(data: data.bytes, providerName: path, parsingOptions: .default)
            } else {
                let yaml = Data(try Yams.serialize(node: Node(kept)).utf8)
                snapshot = try YAMLSnapshot(data: yaml.bytes, providerName: path, parsingOptions: .default)
            }
        } catch {
            throw ConfigurationProblems(["\(path): \(error)"])
        }
        provider = SnapshotProvider(snapshot: snapshot, providerName: path)
    }
}
