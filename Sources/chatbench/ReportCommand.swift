import ArgumentParser
import ChatBenchCore
import Foundation

/// `chatbench report`: turns the JSON lines of a run into BENCHMARKS.md.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render BENCHMARKS.md from a file of chatbench JSON lines (used by bench/run.sh)."
    )

    @Option(help: "File of JSON result lines, one per scenario run.") var results: String
    @Option(help: "Text describing the machine (nproc, CPU, kernel, swift version), quoted verbatim.") var machine:
        String
    @Option(help: "Markdown appended after the figures (analysis, profiling notes).") var notes: String?
    @Option(help: "Line naming how the run was made (e.g. the bench/run.sh command).") var invocation: String?
    @Option(help: "Where to write; default stdout.") var output: String?

    func run() throws {
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        let records: [[String: Any]] = lines.compactMap { line in
            guard let data = line.data(using: .utf8) else { return nil }
            return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        }
        let machineText = try String(contentsOfFile: machine, encoding: .utf8)
        let notesText = try notes.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let document = BenchmarkDocument(
            records: records.map(BenchmarkDocument.Record.init), machine: machineText, notes: notesText,
            invocation: invocation
        ).markdown
        if let output {
            try document.write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            print(document, terminator: "")
        }
    }
}
