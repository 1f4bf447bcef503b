import NIOCore

/// An IPv4 or IPv6 network (an address and a prefix length), for bans and connection limits on networks.
///
/// Text forms: `203.0.113.7` (a bare IPv4 address is its /32), `203.0.113.0/24`, `2001:db8::/48`, and
/// `2001:db8::1` — a bare IPv6 address means its /64, as in `ConnectionLimiter`, because one subscriber usually
/// holds a whole /64. Host bits are cleared (`203.0.113.7/24` is `203.0.113.0/24`), and IPv4-mapped IPv6
/// networks are IPv4 ones (`::ffff:203.0.113.0/120` is `203.0.113.0/24`). `description` is canonical (a /32 is
/// written bare; IPv6 always with its prefix), and Codable uses it.
///
/// To match an address against many networks in O(number of prefix lengths), keep one dictionary per prefix
/// length keyed by `IPNetwork.key(of:prefixLength:)` (or by `IPNetwork(containing:prefixLength:)`) and look the
/// address up once per prefix length in use.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the network (host bits cleared).
    public let address: IPAddress
    public let prefixLength: Int

    /// The prefix length a bare address stands for: the whole address for IPv4, the /64 for IPv6.
    public static func defaultPrefixLength(for family: IPAddress.Family) -> Int {
        family == .ipv4 ? 32 : 64
    }

    /// The network of `prefixLength` bits that contains `address`; `nil` if the prefix length is out of range
    /// for the address's family.
    public init?(containing address: IPAddress, prefixLength: Int) {
        guard (0...address.family.bitCount).contains(prefixLength) else { return nil }
        self.address = address.masked(toPrefixLength: prefixLength)
        self.prefixLength = prefixLength
    }

    /// The network a single client is counted and banned under: an IPv4 address, or an IPv6 address's /64.
    public init(host address: IPAddress) {
        self.init(containing: address, prefixLength: Self.defaultPrefixLength(for: address.family))!
    }

    /// Parses `203.0.113.7`, `203.0.113.0/24`, `2001:db8::1` or `2001:db8::/48`.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            throw IPNetworkParseError(.notAnAddress, input: text)
        }
        guard parts.count == 2 else {
            self.init(host: address)
            return
        }
        let digits = parts[1].utf8
        guard (1...3).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
            var prefixLength = Int(parts[1])
        else {
            throw IPNetworkParseError(.badPrefix, input: text)
        }
        if address.family == .ipv4, parts[0].contains(":") {
            // An IPv4-mapped IPv6 network: its prefix counts the 96 bits of the ::ffff: part.
            guard prefixLength <= 128 else { throw IPNetworkParseError(.prefixOutOfRange, input: text) }
            guard prefixLength >= 96 else { throw IPNetworkParseError(.mappedPrefixTooShort, input: text) }
            prefixLength -= 96
        }
        guard let network = IPNetwork(containing: address, prefixLength: prefixLength) else {
            throw IPNetworkParseError(.prefixOutOfRange, input: text)
        }
        self = network
    }

    /// Whether `address` lies in this network (never across families).
    public func contains(_ address: IPAddress) -> Bool {
        address.family == self.address.family && address.masked(toPrefixLength: prefixLength) == self.address
    }

    /// Whether the numeric address `address` lies in this network; `false` for text that is not an address.
    public func contains(_ address: String) -> Bool {
        IPAddress(address).map(contains) ?? false
    }

    /// Whether the IP of a socket address lies in this network; `false` for a Unix domain socket.
    public func contains(_ address: SocketAddress) -> Bool {
        IPAddress(address).map(contains) ?? false
    }

    /// This network widened to `prefixLength` bits if that is shorter than its own (e.g. a /64's /48).
    public func widened(toPrefixLength prefixLength: Int) -> IPNetwork {
        IPNetwork(containing: address, prefixLength: max(0, min(prefixLength, self.prefixLength)))!
    }

    /// The canonical text of the network of `prefixLength` bits that contains `address`: a dictionary key for
    /// bans of that prefix length. `nil` if `address` is not an IP address or the length is out of range.
    public static func key(of address: SocketAddress, prefixLength: Int) -> String? {
        IPAddress(address).flatMap { IPNetwork(containing: $0, prefixLength: prefixLength) }?.description
    }

    /// As `key(of:prefixLength:)` for a numeric address in text.
    public static func key(of address: String, prefixLength: Int) -> String? {
        IPAddress(address).flatMap { IPNetwork(containing: $0, prefixLength: prefixLength) }?.description
    }

    public var description: String {
        if address.family == .ipv4, prefixLength == 32 { return address.description }
        return "\(address)/\(prefixLength)"
    }
}

extension IPNetwork: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
