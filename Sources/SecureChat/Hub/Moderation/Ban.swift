/// One ban: a username (matched by its look-alike skeleton) and/or a network (a bare IPv4 address is its /32,
/// an IPv6 address its /64), with who set it, when and why.
public struct Ban: Codable, Sendable, Equatable {
    /// The name as the operator saw it, if the ban names one.
    public var name: String?
    /// The banned network, if the ban names one.
    public var network: IPNetwork?
    public var bannedBy: String
    public var bannedAt: Timestamp
    public var reason: String?

    public init(name: String?, network: IPNetwork?, bannedBy: String, bannedAt: Timestamp, reason: String?) {
        self.name = name
        self.network = network
        self.bannedBy = bannedBy
        self.bannedAt = bannedAt
        self.reason = reason
    }

    /// A ban on a name and the address it was connected from (text as `ClientInfo.address` holds it).
    public init(name: String?, address: String?, bannedBy: String, bannedAt: Timestamp, reason: String?) {
        let network = address.flatMap(IPAddress.init).map(IPNetwork.init(host:))
        self.init(name: name, network: network, bannedBy: bannedBy, bannedAt: bannedAt, reason: reason)
    }

    /// The network as text (`127.0.0.2`, `2001:db8::/64`, `203.0.113.0/24`); the ban file's `address` field.
    public var address: String? { network?.description }

    /// The skeleton the ban refuses, if it names a name.
    var nameKey: String? { name.map(Username.key(for:)) }

    /// What the ban refuses, whoever made it, when and why: two bans with one target are the same ban.
    struct Target: Hashable {
        let nameKey: String?
        let network: IPNetwork?
    }

    var target: Target { Target(nameKey: nameKey, network: network) }

    private enum CodingKeys: String, CodingKey {
        case name, address, bannedBy, bannedAt, reason
    }

    /// A hand-written file's `"address": "10.0.0.7"` or `"203.0.113.0/24"` parses as a network; anything else
    /// is an error, so a typo never silently bans nothing.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decodeIfPresent(String.self, forKey: .name),
            network: try container.decodeIfPresent(IPNetwork.self, forKey: .address),
            bannedBy: try container.decode(String.self, forKey: .bannedBy),
            bannedAt: try container.decode(Timestamp.self, forKey: .bannedAt),
            reason: try container.decodeIfPresent(String.self, forKey: .reason)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(network, forKey: .address)
        try container.encode(bannedBy, forKey: .bannedBy)
        try container.encode(bannedAt, forKey: .bannedAt)
        try container.encodeIfPresent(reason, forKey: .reason)
    }

    /// How the ban reads in `/bans` (the operators' view; a banned client is never shown it).
    public var summary: String { summary(showingAddress: true) }

    /// How the ban reads in `/bans`: with its address or network only for an operator who may see addresses
    /// (one configured by certificate); for the others a network shows as `a network`, so the list never
    /// tells them where a user connects from.
    public func summary(showingAddress: Bool) -> String {
        let shownAddress = showingAddress ? address : (network == nil || name != nil ? nil : "a network")
        var target = [name, shownAddress].compactMap { $0 }.joined(separator: " / ")
        if target.isEmpty { target = "?" }
        var text = "\(target), by \(bannedBy) at \(bannedAt.dateTime)"
        if let reason { text += ": \(reason)" }
        return text
    }

    /// Networks wider than this many bits (IPv4 /16, IPv6 /32) are refused from chat: only the ban file may
    /// hold them, so an operator, who under the first-user rule is whoever connected first, cannot ban the
    /// internet.
    public static func narrowestChatPrefix(for family: IPAddress.Family) -> Int {
        family == .ipv4 ? 16 : 32
    }
}
