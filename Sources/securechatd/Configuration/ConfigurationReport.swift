/// Every effective setting and where it came from, one line each, as `--check-config` prints them:
/// `max-line = 4096 (securechat.yaml:12)`, `rate = 5 (default)`, secrets as `<redacted>`.
enum ConfigurationReport {
    static func lines(for command: SecureChatDaemon, origins: [String: String]) -> [String] {
        ConfigurationKey.all.map { key in
            let value = values(of: command)[key.name] ?? nil
            let shown = value == nil ? "(not set)" : key.isSecret ? "<redacted>" : value!
            return "\(key.name) = \(shown) (\(origins[key.name] ?? "default"))"
        }
    }

    /// Each setting's effective value as text; nil for a setting that is not set (no default).
    static func values(of command: SecureChatDaemon) -> [String: String?] {
        Dictionary(uniqueKeysWithValues: ConfigurationKey.all.map { ($0.name, render(command[keyPath: $0.field])) })
    }

    private static func render(_ value: Any) -> String? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return render(wrapped)
        }
        switch value {
        case let number as Double: return ValueRule.format(number)
        case let list as [String]: return "[" + list.joined(separator: ", ") + "]"
        case let word as any RawRepresentable<String>: return word.rawValue
        default: return "\(value)"
        }
    }
}
