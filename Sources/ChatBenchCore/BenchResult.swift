import SecureChat

/// One scenario's outcome: ordered figures that render both as the final JSON line and as a human table.
public struct BenchResult: Sendable {
    /// A value in the JSON line.
    public enum Value: Sendable, Equatable {
        case int(Int)
        case number(Double)
        case text(String)
        case flag(Bool)
    }

    /// One figure: JSON key, table label, value, unit.
    public struct Figure: Sendable, Equatable {
        public var key: String
        public var label: String
        public var value: Value
        public var unit: String

        public init(_ key: String, _ label: String, _ value: Value, unit: String = "") {
            self.key = key
            self.label = label
            self.value = value
            self.unit = unit
        }
    }

    public var scenario: String
    public var transport: String
    /// The command line that produced this result (JSON only).
    public var command: String?
    public private(set) var figures: [Figure] = []

    public init(scenario: String, transport: String) {
        self.scenario = scenario
        self.transport = transport
    }

    public mutating func add(_ key: String, _ label: String, _ value: Int, unit: String = "") {
        figures.append(Figure(key, label, .int(value), unit: unit))
    }

    public mutating func add(_ key: String, _ label: String, _ value: Double, unit: String = "") {
        figures.append(Figure(key, label, .number(value), unit: unit))
    }

    public mutating func add(_ key: String, _ label: String, _ value: String) {
        figures.append(Figure(key, label, .text(value)))
    }

    public mutating func add(_ key: String, _ label: String, _ value: Bool) {
        figures.append(Figure(key, label, .flag(value)))
    }

    /// `{"scenario":"fanout","transport":"plaintext",...}` on one line, keys in the order added.
    public var jsonLine: String {
        var parts = ["\"scenario\":\(JSON.quote(scenario))", "\"transport\":\(JSON.quote(transport))"]
        for figure in figures {
            parts.append("\(JSON.quote(figure.key)):\(JSON.render(figure.value))")
        }
        if let command { parts.append("\"command\":\(JSON.quote(command))") }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// A two-column table for people.
    public var table: String {
        let title = "\(scenario) (\(transport))"
        let rows = figures.map { ($0.label, Self.display($0.value) + ($0.unit.isEmpty ? "" : " \($0.unit)")) }
        let width = max(rows.map(\.0.count).max() ?? 0, 8)
        var lines = [title, String(repeating: "-", count: max(title.count, width + 20))]
        for (label, value) in rows {
            lines.append(label.padding(to: width) + "  " + value)
        }
        return lines.joined(separator: "\n")
    }

    static func display(_ value: Value) -> String {
        switch value {
        case .int(let value): groupThousands(value)
        case .number(let value): formatDecimal(value)
        case .text(let value): value
        case .flag(let value): value ? "yes" : "no"
        }
    }

    static func groupThousands(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// Three significant decimals for small numbers, fewer for large ones.
    public static func formatDecimal(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let magnitude = abs(value)
        let decimals = magnitude >= 1000 ? 0 : magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : 3
        return JSON.fixed(value, decimals: decimals)
    }
}

/// The little JSON the benchmark writes (no Foundation on the hot path, stable key order).
enum JSON {
    static func quote(_ text: String) -> String {
        JSONLogHandler.quoted(text)
    }

    static func render(_ value: BenchResult.Value) -> String {
        switch value {
        case .int(let value): String(value)
        case .number(let value): value.isFinite ? fixed(value, decimals: 6).trimmingFractionZeros : "null"
        case .text(let value): quote(value)
        case .flag(let value): value ? "true" : "false"
        }
    }

    /// `value` with exactly `decimals` digits after the point, rounded half away from zero.
    static func fixed(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let whole = UInt64(scaled)
        let integerPart = whole / UInt64(scale)
        var text = String(integerPart)
        if decimals > 0 {
            let fraction = String(whole % UInt64(scale))
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return (value < 0 && scaled > 0 ? "-" : "") + text
    }
}

extension String {
    fileprivate var trimmingFractionZeros: String {
        guard contains(".") else { return self }
        var text = self
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
