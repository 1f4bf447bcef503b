/// Why a text is not an `IPNetwork`, with the text, worded for an operator.
public struct IPNetworkParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of mistake; compare against the `static let`s.
    public struct Reason: Hashable, Sendable {
        private enum Base: Hashable, Sendable {
            case notAnAddress
            case badPrefix
            case prefixOutOfRange
            case mappedPrefixTooShort
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The part before any `/` is not a numeric IPv4 or IPv6 address.
        public static let notAnAddress = Reason(.notAnAddress)
        /// What follows `/` is not a decimal number.
        public static let badPrefix = Reason(.badPrefix)
        /// The prefix length is longer than the address family has bits.
        public static let prefixOutOfRange = Reason(.prefixOutOfRange)
        /// An IPv4-mapped IPv6 network with a prefix shorter than /96, which would not be an IPv4 network.
        public static let mappedPrefixTooShort = Reason(.mappedPrefixTooShort)
    }

    public let reason: Reason
    /// The text that failed to parse.
    public let input: String

    init(_ reason: Reason, input: String) {
        self.reason = reason
        self.input = input
    }

    public var description: String {
        let examples = "e.g. 203.0.113.7, 203.0.113.0/24, 2001:db8::1 or 2001:db8::/48"
        switch reason {
        case .notAnAddress:
            return "'\(input)' is not an IP address or network (\(examples))"
        case .badPrefix:
            return "'\(input)': the prefix length after '/' must be a number (\(examples))"
        case .prefixOutOfRange:
            return "'\(input)': the prefix length is out of range (IPv4: 0-32, IPv6: 0-128)"
        default:
            return "'\(input)': an IPv4-mapped IPv6 network needs a prefix of /96 or longer"
        }
    }
}
