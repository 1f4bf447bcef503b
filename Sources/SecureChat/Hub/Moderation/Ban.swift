/// One ban: a username (compared ignoring case) and/or an address, with who set it, when and why.
public struct Ban: Codable, Sendable, Equatable {
    /// Lower-case username, if the ban names one.
    public var name: String?
    /// IP address, if the ban names one.
    public var address: String?
    public var bannedBy: String
    public var bannedAt: Timestamp
    public var reason: String?

    public init(name: String?, address: String?, bannedBy: String, bannedAt: Timestamp, reason: String?) {
        self.name = name?.lowercased()
        self.address = address
        self.bannedBy = bannedBy
        self.bannedAt = bannedAt
        self.reason = reason
    }

    private enum CodingKeys: String, CodingKey {
        case name, address, bannedBy, bannedAt, reason
    }

    /// Decodes through `init` so a hand-written file's "Mallory" bans "mallory" too.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decodeIfPresent(String.self, forKey: .name),
            address: try container.decodeIfPresent(String.self, forKey: .address),
            bannedBy: try container.decode(String.self, forKey: .bannedBy),
            bannedAt: try container.decode(Timestamp.self, forKey: .bannedAt),
            reason: try container.decodeIfPresent(String.self, forKey: .reason)
        )
    }

    /// How the ban reads in `/bans` and in the refusal a banned client gets.
    public var summary: String {
        var target = [name, address].compactMap { $0 }.joined(separator: " / ")
        if target.isEmpty { target = "?" }
        var text = "\(target), by \(bannedBy) at \(bannedAt.dateTime)"
        if let reason { text += ": \(reason)" }
        return text
    }
}
