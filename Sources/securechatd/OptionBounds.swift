import Logging

/// The bounds of every option that has one, checked by the flags' `validate()` and by the configuration loader
/// (file and environment) alike: each is written here once.
enum OptionBounds {
    static let port = ValueRule.integer(0...65535)
    static let maxLine = ValueRule.integer(64...1_048_576)
    static let outboxBytes = ValueRule.integer(4096...Int.max)
    static let sendBuffer = ValueRule.zeroOrInteger(4096...(64 << 20))
    static let zeroOrMore = ValueRule.integer(0...Int.max)
    static let oneOrMore = ValueRule.integer(1...Int.max)
    static let rate = ValueRule.number(0...Double.greatestFiniteMagnitude)
    static let keepaliveSeconds = ValueRule.integer(1...32767)
    static let keepaliveProbes = ValueRule.integer(1...127)
    static let eventLoops = ValueRule.integer(1...1024)
    static let nodeTimeout = ValueRule.number(0.5...3600)
    static let logLevel = ValueRule.choice(Logger.Level.allCases.map(\.rawValue))
    static let logFormat = ValueRule.choice(OperationsOptions.LogFormat.allCases.map(\.rawValue))

    /// Whole seconds from `minimum` to a year (see ``SecondsOption``).
    static func seconds(minimum: Int = 1) -> ValueRule { .integer(minimum...SecondsOption.maximum) }
}
