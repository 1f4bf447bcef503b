import Foundation

/// Which top folders of a Swift module depend on which, read from the source text: folder A depends on folder B
/// when a file in A names a type declared at the top level of a file in B (a struct, class, enum, actor, protocol
/// or typealias; an extension names its type too). A subfolder counts as its top folder.
///
/// A text scan, not the compiler: comments and string literals are blanked out first, and a name after a dot
/// (`PostgresConnection.Configuration`, `.lobby`) is a member, not a top-level type. That is enough for a module
/// whose types are capitalised and whose folders do not declare the same name twice.
struct FolderDependencyGraph {
    /// One source file: its path (for messages) and its top folder.
    struct SourceFile {
        let path: String
        let folder: String
        let text: String
    }

    struct Edge: Hashable, Comparable, CustomStringConvertible {
        let from: String
        let to: String

        static func < (lhs: Edge, rhs: Edge) -> Bool { (lhs.from, lhs.to) < (rhs.from, rhs.to) }
        var description: String { "\(from) → \(to)" }
    }

    /// Why an edge is there: one file of the depending folder and a type of the other that it names.
    struct Evidence: Equatable, CustomStringConvertible {
        let file: String
        let type: String

        var description: String { "\(file) names \(type)" }
    }

    /// Every edge, with the first evidence found (files in path order).
    private(set) var edges: [Edge: Evidence] = [:]

    init(files: [SourceFile]) {
        let scanned = files.sorted { $0.path < $1.path }.map { (file: $0, code: Self.code(of: $0.text)) }
        var folders: [String: Set<String>] = [:]
        for (file, code) in scanned {
            for name in Self.topLevelTypes(in: code) { folders[name, default: []].insert(file.folder) }
        }
        // A name declared in two folders can only be private to each file (the module would not compile
        // otherwise), so it links neither.
        let home = folders.compactMapValues { $0.count == 1 ? $0.first : nil }
        for (file, code) in scanned {
            for name in Self.names(in: code) {
                guard let folder = home[name], folder != file.folder else { continue }
                let edge = Edge(from: file.folder, to: folder)
                if edges[edge] == nil { edges[edge] = Evidence(file: file.path, type: name) }
            }
        }
    }

    /// The Swift files under `sources`, each with the first path component below it as its folder. Files directly
    /// in `sources` belong to no folder and are left out.
    static func load(sources: URL) throws -> [SourceFile] {
        let root = sources.standardizedFileURL.path + "/"
        guard let walk = FileManager.default.enumerator(atPath: root) else { return [] }
        return try walk.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") && $0.contains("/") }.map {
            SourceFile(
                path: $0, folder: String($0.prefix { $0 != "/" }),
                text: try String(contentsOfFile: root + $0, encoding: .utf8))
        }
    }

    /// One cycle per back edge of a depth-first walk (folders and their edges in sorted order, so the answer
    /// is stable), each as a list of edges that ends where it starts. Empty exactly when the graph is acyclic.
    func cycles(ignoring tolerated: Set<Edge> = []) -> [[Edge]] {
        var next: [String: [String]] = [:]
        for edge in edges.keys.sorted() where !tolerated.contains(edge) { next[edge.from, default: []].append(edge.to) }
        var finished: Set<String> = []
        var path: [String] = []
        var found: [[Edge]] = []
        func visit(_ folder: String) {
            path.append(folder)
            for target in next[folder, default: []] {
                if let start = path.firstIndex(of: target) {
                    let loop = path[start...] + [target]
                    found.append(zip(loop, loop.dropFirst()).map { Edge(from: $0, to: $1) })
                } else if !finished.contains(target) {
                    visit(target)
                }
            }
            path.removeLast()
            finished.insert(folder)
        }
        for folder in Set(edges.keys.map(\.from)).sorted() where !finished.contains(folder) { visit(folder) }
        return found
    }

    /// A cycle as a reader fixing it wants it: each edge with the file and type that make it.
    func explain(_ cycle: [Edge]) -> String {
        cycle.map { "  \($0): \(edges[$0].map { "\($0)" } ?? "?")" }.joined(separator: "\n")
    }

    // MARK: - Scanning

    /// The text with comments and string literals (plain, multi-line and raw) replaced by spaces, so that
    /// neither their words nor their braces count.
    static func code(of text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func starts(_ prefix: [UInt8], at position: Int) -> Bool {
            guard position + prefix.count <= bytes.count else { return false }
            return prefix.indices.allSatisfy { bytes[position + $0] == prefix[$0] }
        }
        func skip(past end: [UInt8], from position: Int, escapes: Bool) -> Int {
            var position = position
            while position < bytes.count && !starts(end, at: position) {
                position += escapes && bytes[position] == UInt8(ascii: "\\") ? 2 : 1
            }
            return min(position + end.count, bytes.count)
        }
        let lineComment = Array("//".utf8)
        let blockOpen = Array("/*".utf8)
        let blockClose = Array("*/".utf8)
        let tripleQuote = [UInt8](repeating: UInt8(ascii: "\""), count: 3)
        while index < bytes.count {
            if starts(lineComment, at: index) {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else if starts(blockOpen, at: index) {
                // Swift's block comments nest.
                var depth = 0
                repeat {
                    if starts(blockOpen, at: index) {
                        depth += 1
                        index += 2
                    } else if starts(blockClose, at: index) {
                        depth -= 1
                        index += 2
                    } else {
                        index += 1
                    }
                } while depth > 0 && index < bytes.count
            } else if let hashes = Self.stringStart(bytes, at: index) {
                let quote = starts(tripleQuote, at: index + hashes) ? tripleQuote : [UInt8(ascii: "\"")]
                let end = quote + [UInt8](repeating: UInt8(ascii: "#"), count: hashes)
                index = skip(past: end, from: index + hashes + quote.count, escapes: hashes == 0)
                out.append(UInt8(ascii: " "))
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// How many `#` open the string literal starting at `index` (0 for a plain one), or nil if none starts there.
    private static func stringStart(_ bytes: [UInt8], at index: Int) -> Int? {
        var position = index
        while position < bytes.count && bytes[position] == UInt8(ascii: "#") { position += 1 }
        return position < bytes.count && bytes[position] == UInt8(ascii: "\"") ? position - index : nil
    }

    /// The identifiers of `code` in order, each with whether a `.` comes right before it (a member, not a type) and
    /// how many braces are open around it.
    private static func identifiers(in code: [UInt8]) -> [(name: String, isMember: Bool, depth: Int)] {
        func isStart(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
        func isPart(_ byte: UInt8) -> Bool { isStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        var result: [(name: String, isMember: Bool, depth: Int)] = []
        var depth = 0
        var index = 0
        while index < code.count {
            let byte = code[index]
            if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
            }
            guard isStart(byte), index == 0 || !isPart(code[index - 1]) else {
                index += 1
                continue
            }
            var end = index
            while end < code.count && isPart(code[end]) { end += 1 }
            let isMember = index > 0 && code[index - 1] == UInt8(ascii: ".")
            result.append((String(decoding: code[index..<end], as: UTF8.self), isMember, depth))
            index = end
        }
        return result
    }

    /// The names declared at the top level of `code` (outside every brace).
    static func topLevelTypes(in code: [UInt8]) -> [String] {
        let keywords: Set<String> = ["struct", "class", "enum", "actor", "protocol", "typealias"]
        let tokens = identifiers(in: code)
        return zip(tokens, tokens.dropFirst()).compactMap { keyword, name in
            keyword.depth == 0 && !keyword.isMember && keywords.contains(keyword.name) ? name.name : nil
        }
    }

    /// The names `code` uses that could be types: every identifier that is not a member.
    static func names(in code: [UInt8]) -> [String] {
        identifiers(in: code).filter { !$0.isMember }.map(\.name)
    }
}
