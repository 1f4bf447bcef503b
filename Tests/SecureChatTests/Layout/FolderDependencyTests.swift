import Foundation
import Testing

/// No cycles between the folders of Sources/SecureChat (README.md, "Layout", draws the intended arrows): a folder
/// may use the types of the folders below it and never those above, so each layer can be read, tested and
/// changed without the ones that use it.
@Suite struct FolderDependencyTests {
    /// Edges tolerated for now, each with who removes it (none today: an entry here is a cycle someone owes).
    static let tolerated: Set<FolderDependencyGraph.Edge> = []

    static var sources: URL {
        // Tests/SecureChatTests/Layout/<this file> → the package root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/SecureChat")
    }

    @Test func theSourceFoldersDependOnEachOtherWithoutCycles() throws {
        let files = try FolderDependencyGraph.load(sources: Self.sources)
        // A wrong path would find nothing and pass: the module's folders must all be there.
        let folders = Set(files.map(\.folder))
        #expect(folders.isSuperset(of: ["Hub", "Protocol", "Server", "Session", "TLS"]), "\(folders.sorted())")
        let graph = FolderDependencyGraph(files: files)
        for cycle in graph.cycles(ignoring: Self.tolerated) {
            Issue.record("folders in a cycle:\n\(graph.explain(cycle))")
        }
        for edge in Self.tolerated.sorted() where graph.edges[edge] == nil {
            Issue.record("\(edge) is gone: delete its entry from FolderDependencyTests.tolerated")
        }
    }

    /// The checker itself: three folders in a ring are found, with the file and type of each edge, and a name in a
    /// comment, a string or after a dot makes no edge.
    @Test func aCycleInSyntheticFilesIsFoundWithItsEvidence() {
        let ring = Self.files([
            ("Alpha/Apple.swift", "public struct Apple {\n    let banana: Banana\n}\n"),
            ("Beta/Banana.swift", "enum Banana { case ripe }\n"),
            ("Beta/Banana+Cherry.swift", "extension Banana {\n    var cherry: Cherry? { nil }\n}\n"),
            ("Gamma/Cherry.swift", "final class Cherry {\n    typealias Inner = Int\n    let apple: Apple? = nil\n}\n"),
        ])
        let graph = FolderDependencyGraph(files: ring)
        let cycles = graph.cycles()
        #expect(cycles.count == 1)
        #expect(cycles.first.map { Set($0.map(\.from)) } == ["Alpha", "Beta", "Gamma"])
        #expect(graph.edges[.init(from: "Beta", to: "Gamma")]?.file == "Beta/Banana+Cherry.swift")
        #expect(graph.edges[.init(from: "Gamma", to: "Alpha")] == .init(file: "Gamma/Cherry.swift", type: "Apple"))
        let message = cycles.first.map(graph.explain) ?? ""
        #expect(message.contains("Alpha → Beta: Alpha/Apple.swift names Banana"), "\(message)")
        // Tolerating one edge of the ring breaks it.
        #expect(graph.cycles(ignoring: [.init(from: "Gamma", to: "Alpha")]).isEmpty)
    }

    @Test func namesInCommentsStringsAndMembersAreNoDependency() {
        let files = Self.files([
            ("Alpha/Apple.swift", "struct Apple {\n    let banana: Banana\n}\n"),
            ("Beta/Banana.swift", "enum Banana { case ripe }\n"),
            (
                "Gamma/Cherry.swift",
                #"""
                // Apple, in a line comment.
                /* Apple /* nested */ Apple, in a block comment. */
                struct Cherry {
                    let a = "Apple { in a string"
                    let b = #"Apple in a raw "string""#
                    let c = """
                        Apple in a multi-line string
                        """
                    let d = Other.Apple.self
                    struct Seed {}
                }
                """#
            ),
        ])
        let graph = FolderDependencyGraph(files: files)
        #expect(graph.edges.keys.sorted() == [.init(from: "Alpha", to: "Beta")])
        #expect(graph.cycles().isEmpty)
        // A nested type counts for its outer name only.
        #expect(FolderDependencyGraph.topLevelTypes(in: FolderDependencyGraph.code(of: files[2].text)) == ["Cherry"])
    }

    private static func files(_ sources: [(path: String, text: String)]) -> [FolderDependencyGraph.SourceFile] {
        sources.map { .init(path: $0.path, folder: String($0.path.prefix { $0 != "/" }), text: $0.text) }
    }
}
