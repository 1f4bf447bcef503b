import ArgumentParser

/// What one option accepts: its type and bounds, said the same way for a flag, a file and the environment.
///
/// The flags' `validate()` and the configuration loader both check values with these, so a bound is written once.
enum ValueRule: Sendable {
    /// A whole number within the range.
    case integer(ClosedRange<Int>)
    /// 0 (a special meaning), or a whole number within the range.
    case zeroOrInteger(ClosedRange<Int>)
    /// A finite number within the range.
    case number(ClosedRange<Double>)
    /// true or false (a flag).
    case flag
    /// Any text: an address, a name, a path.
    case text
    /// One of these words.
    case choice([String])
    /// A list of texts (a repeatable flag).
    case list

    /// The words after "expected" in an error, and after "must be" in a flag's error.
    var expectation: String {
        switch self {
        case .integer(let range): return "an integer \(Self.describe(range))"
        case .zeroOrInteger(let range): return "0 or an integer \(Self.describe(range))"
        case .number(let range):
            let lower = Self.format(range.lowerBound)
            return range.upperBound == .greatestFiniteMagnitude
                ? "a number >= \(lower)" : "a number from \(lower) to \(Self.format(range.upperBound))"
        case .flag: return "true or false"
        case .text: return "a text"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        case .list: return "a list of texts"
        }
    }

    func accepts(_ value: Int) -> Bool {
        switch self {
        case .integer(let range): return range.contains(value)
        case .zeroOrInteger(let range): return value == 0 || range.contains(value)
        default: return false
        }
    }

    func accepts(_ value: Double) -> Bool {
        guard case .number(let range) = self else { return false }
        return value.isFinite && range.contains(value)
    }

    func accepts(_ value: String) -> Bool {
        guard case .choice(let words) = self else { return true }
        return words.contains(value)
    }

    /// A number as an operator writes it: `5`, not `5.0`.
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == .max ? ">= \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
    }
}

extension ValueRule {
    /// Throws a flag's usage error unless the rule accepts `value`.
    func check(_ value: Int, flag: String) throws {
        guard accepts(value) else { throw ValidationError("--\(flag) must be \(expectation), got \(value)") }
    }

    func check(_ value: Double, flag: String) throws {
        guard accepts(value) else {
            throw ValidationError("--\(flag) must be \(expectation), got \(Self.format(value))")
        }
    }

    func check(_ value: String, flag: String) throws {
        guard accepts(value) else { throw ValidationError("--\(flag) must be \(expectation), got \(value)") }
    }
}
