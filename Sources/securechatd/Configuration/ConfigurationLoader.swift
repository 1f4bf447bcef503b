import Configuration

/// The settings from the environment and the file, turned into flags for ArgumentParser, so that one parser and
/// one set of checks (the options' `validate()`, ``OptionBounds``) serve all three sources.
///
/// Precedence: the command line, then the environment, then the file, then the default. A setting the command
/// line gives is not read from the others at all.
struct LoadedConfiguration: Sendable {
    /// The file's and the environment's settings as `--name=value`, then the command line as given.
    let arguments: [String]
    /// Where each setting not at its default came from: `command line`, `SECURECHAT_RATE`, `securechat.yaml:12`.
    let origins: [String: String]
}

enum ConfigurationLoader {
    static let commandLineOrigin = "command line"

    /// Throws ``ConfigurationProblems`` listing everything wrong: unknown keys and variables, values of the wrong
    /// type or out of bounds, a file that cannot be read.
    static func load(commandLine: [String], environment: [String: String]) throws -> LoadedConfiguration {
        let scan = CommandLineScan(commandLine)
        let variables = ConfigurationEnvironment(environment)
        var problems = variables.problems
        let file = try scan.configurationFile.map { try ConfigurationFile.load(path: $0) }
        problems += file?.problems ?? []

        let secretVariables = ConfigurationKey.all.filter(\.isSecret).map(\.environmentName)
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(
                environmentVariables: variables.variables, secretsSpecifier: .specific(Set(secretVariables))
            ).prefixKeys(with: ConfigKey("securechat"))
        ]
        if let file { providers.append(file.provider) }
        let recorder = ValueAccessRecorder()
        let reader = ConfigReader(providers: providers, accessReporter: recorder)

        var arguments: [String] = []
        var origins: [String: String] = [:]
        for name in scan.givenKeys { origins[name] = commandLineOrigin }
        for key in ConfigurationKey.all where !scan.givenKeys.contains(key.name) {
            let value = read(key, from: reader)
            let outcome = recorder.outcome(for: key.name)
            let fromFile: Bool
            switch outcome {
            case .absent: continue
            case .found(let provider), .unconvertible(let provider): fromFile = provider == file?.path
            }
            let origin: String
            let shown: String
            let prefix: String
            if fromFile, let file {
                origin = "\(file.path):\(file.lines[key.name] ?? 0)"
                shown = file.shownValues[key.name] ?? "?"
                prefix = "\(origin): \(key.name)"
            } else {
                origin = variables.labels[key.name] ?? key.environmentName
                shown = ShownValue.quoted(variables.variables[key.environmentName] ?? "", secret: key.isSecret)
                prefix = origin
            }
            guard !isUnconvertible(outcome), let value, value.isAccepted(by: key.rule) else {
                problems.append("\(prefix): expected \(key.rule.expectation), got \(shown)")
                continue
            }
            arguments += value.flags(for: key.name)
            origins[key.name] = origin
        }
        guard problems.isEmpty else { throw ConfigurationProblems(problems) }
        return LoadedConfiguration(arguments: arguments + commandLine, origins: origins)
    }

    private static func isUnconvertible(_ outcome: ValueAccessRecorder.Outcome) -> Bool {
        if case .unconvertible = outcome { return true }
        return false
    }

    /// Asks the reader for the key's value in the rule's type; a value of another type reaches the recorder.
    private static func read(_ key: ConfigurationKey, from reader: ConfigReader) -> ReadValue? {
        let configKey = ConfigKey(key.name)
        switch key.rule {
        case .integer, .zeroOrInteger: return reader.int(forKey: configKey).map(ReadValue.integer)
        case .number: return reader.double(forKey: configKey).map(ReadValue.number)
        case .flag: return reader.bool(forKey: configKey).map(ReadValue.flag)
        case .text, .choice:
            return reader.string(forKey: configKey, isSecret: key.isSecret).map(ReadValue.text)
        case .list: return reader.stringArray(forKey: configKey).map(ReadValue.list)
        }
    }
}

/// One setting's value as read, before it becomes flags.
enum ReadValue {
    case integer(Int)
    case number(Double)
    case flag(Bool)
    case text(String)
    case list([String])

    func isAccepted(by rule: ValueRule) -> Bool {
        switch self {
        case .integer(let value): return rule.accepts(value)
        case .number(let value): return rule.accepts(value)
        case .text(let value): return rule.accepts(value)
        case .flag, .list: return true
        }
    }

    /// `--name=value`: the `=` keeps a value that starts with `-` a value.
    func flags(for name: String) -> [String] {
        switch self {
        case .integer(let value): return ["--\(name)=\(value)"]
        case .number(let value): return ["--\(name)=\(ValueRule.format(value))"]
        case .flag(let value): return value ? ["--\(name)"] : []
        case .text(let value): return ["--\(name)=\(value)"]
        case .list(let values): return values.map { "--\(name)=\($0)" }
        }
    }
}
