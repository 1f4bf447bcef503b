/// Parses `--source-addresses`: the local addresses client sockets bind to, so that more connections can be
/// opened than one address has ephemeral ports (~28k on Linux).
///
/// Accepts a comma-separated list of single addresses and IPv4 ranges, e.g. `127.0.0.1-127.0.0.50` or
/// `127.0.0.1,127.0.0.2,::1`. Only loopback addresses (127.0.0.0/8 and ::1) are accepted: the benchmark
/// never sends traffic anywhere else.
public enum AddressRange {
    /// Why a `--source-addresses` value was refused.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case notLoopback(String)
        case descending(String)
        case tooMany(Int)

        public var description: String {
            switch self {
            case .malformed(let text): "not an IPv4 address, ::1 or an IPv4 range: \(text)"
            case .notLoopback(let text): "not a loopback address (127.0.0.0/8 or ::1): \(text)"
            case .descending(let text): "range ends before it starts: \(text)"
            case .tooMany(let count): "\(count) addresses; at most \(AddressRange.maximumCount) are allowed"
            }
        }
    }

    /// Most addresses one specification may expand to.
    public static let maximumCount = 65_536

    /// Expands a specification into its addresses, in order, duplicates removed.
    public static func parse(_ specification: String) throws(ParseError) -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        for part in specification.split(separator: ",", omittingEmptySubsequences: true) {
            let item = part.trimmingSpaces
            for address in try expand(item) where seen.insert(address).inserted {
                result.append(address)
                if result.count > maximumCount { throw .tooMany(result.count) }
            }
        }
        guard !result.isEmpty else { throw .malformed(specification) }
        return result
    }

    private static func expand(_ item: String) throws(ParseError) -> [String] {
        if item == "::1" { return ["::1"] }
        let ends = item.split(separator: "-", omittingEmptySubsequences: false)
        switch ends.count {
        case 1:
            let value = try loopbackIPv4(String(ends[0]))
            return [format(value)]
        case 2:
            let low = try loopbackIPv4(String(ends[0]).trimmingSpaces)
            let high = try loopbackIPv4(String(ends[1]).trimmingSpaces)
            guard low <= high else { throw .descending(item) }
            guard high - low < UInt32(maximumCount) else { throw .tooMany(Int(high - low) + 1) }
            return (low...high).map(format)
        default:
            throw .malformed(item)
        }
    }

    /// The address as a 32-bit number, if it is a dotted-quad IPv4 address inside 127.0.0.0/8.
    static func loopbackIPv4(_ text: String) throws(ParseError) -> UInt32 {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { throw .malformed(text) }
        var value: UInt32 = 0
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy(\.isASCIIDigit), let byte = UInt8(octet) else {
                throw .malformed(text)
            }
            value = value << 8 | UInt32(byte)
        }
        guard value >> 24 == 127 else { throw .notLoopback(text) }
        return value
    }

    static func format(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// Whether a target host is loopback (the benchmark refuses any other).
    public static func isLoopbackHost(_ host: String) -> Bool {
        if host == "::1" || host == "localhost" { return true }
        return (try? loopbackIPv4(host)) != nil
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
