import Foundation
import Testing

/// deploy/securechat.example.yaml lists exactly the settings, and says their defaults; `--help` shows every default.
@Suite("The example configuration file and --help", .timeLimit(.minutes(2)))
struct ExampleConfigurationTests {
    static var examplePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "deploy/securechat.example.yaml"
            ).path
    }

    /// The example with every setting uncommented.
    static func uncommented() throws -> (text: String, keys: [String]) {
        let text = try String(contentsOfFile: examplePath, encoding: .utf8)
        var keys: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let body = line.dropFirst(2)
            guard line.hasPrefix("# "), let colon = body.firstIndex(of: ":"),
                body[..<colon].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !body[..<colon].isEmpty
            else { return String(line) }
            keys.append(String(body[..<colon]))
            return String(body)
        }
        return (lines.joined(separator: "\n"), keys)
    }

    @Test("its keys are exactly the flags, each once")
    func keysAreTheFlags() async throws {
        let flags = try await dumpedOptions().map(\.name).filter { !notSettings.contains($0) }
        let keys = try Self.uncommented().keys
        #expect(keys.count == Set(keys).count)
        #expect(Set(keys) == Set(flags))
    }

    @Test("uncommented, it parses to the defaults")
    func parsesToTheDefaults() async throws {
        let files = try ConfigurationFiles()
        let path = try files.write("all.yaml", try Self.uncommented().text)
        // Without TLS: the defaults' development certificates are not this test's business.
        let fromFile = try await runDaemon(["--config", path, "--check-config", "--no-tls"])
        let defaults = try await runDaemon(["--check-config", "--no-tls"])
        #expect(fromFile.status == 0, "\(fromFile.output)")
        let file = checkedValues(fromFile.output)
        let plain = checkedValues(defaults.output)
        #expect(!plain.isEmpty)
        #expect(file.mapValues(\.value) == plain.mapValues(\.value))
        #expect(plain.filter { $0.key != "no-tls" }.values.allSatisfy { $0.origin == "default" })
        // Every key with a default value came from the file (the others are `key:`, which means the default).
        for (name, setting) in file where setting.value != "(not set)" && name != "no-tls" {
            #expect(setting.origin.hasPrefix("\(path):"), "\(name)")
        }
    }

    @Test("--help shows every default")
    func helpShowsEveryDefault() async throws {
        let help = try await runDaemon(["--help"])
        let text = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for option in try await dumpedOptions() {
            guard let value = option.defaultValue, !option.isFlag else { continue }
            #expect(text.contains("default: \(value))"), "\(option.name)")
        }
    }
}
