import Foundation
import Testing

/// A temporary directory for configuration files, removed with the value.
final class ConfigurationFiles {
    let directory: TLSTemporaryDirectory

    init() throws {
        directory = try TLSTemporaryDirectory()
    }

    /// Writes `text` to `name` with the given permissions; returns its path.
    @discardableResult
    func write(_ name: String, _ text: String, mode: Int16 = 0o600) throws -> String {
        let path = directory.file(name)
        try? FileManager.default.removeItem(atPath: path)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }
}

/// `securechatd` run to its end with `arguments` (and `environment` over the inherited one).
func runDaemon(_ arguments: [String], environment: [String: String] = [:]) async throws -> (
    status: Int32, output: String
) {
    try await ProcessRunner.runToEnd(DaemonProcess.executable, arguments, environment: environment)
}

/// The options `securechatd --experimental-dump-help` lists: name, default (if any), whether it is a flag.
struct DumpedOption: Equatable {
    let name: String
    let defaultValue: String?
    let isFlag: Bool
}

func dumpedOptions() async throws -> [DumpedOption] {
    let result = try await runDaemon(["--experimental-dump-help"])
    let json = try #require(
        try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
    let command = try #require(json["command"] as? [String: Any])
    let arguments = try #require(command["arguments"] as? [[String: Any]])
    return arguments.compactMap { argument in
        guard let preferred = argument["preferredName"] as? [String: Any], let name = preferred["name"] as? String,
            preferred["kind"] as? String == "long"
        else { return nil }
        return DumpedOption(
            name: name, defaultValue: argument["defaultValue"] as? String, isFlag: argument["kind"] as? String == "flag"
        )
    }
}

/// The settings' names: every long option but these four, which are not settings.
let notSettings: Set<String> = ["config", "check-config", "help", "version"]

/// `--check-config`'s value lines (`name = value (origin)`) as name -> (value, origin).
func checkedValues(_ output: String) -> [String: (value: String, origin: String)] {
    var values: [String: (String, String)] = [:]
    for line in output.split(separator: "\n").map(String.init) {
        guard let equals = line.range(of: " = "), line.hasSuffix(")"),
            let open = line.range(of: " (", options: .backwards)
        else { continue }
        let name = String(line[..<equals.lowerBound])
        guard !name.contains(" ") else { continue }
        values[name] = (String(line[equals.upperBound..<open.lowerBound]), String(line[open.upperBound...].dropLast()))
    }
    return values
}
