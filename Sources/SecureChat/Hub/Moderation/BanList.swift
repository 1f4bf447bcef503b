/// The server's bans, in the order they were made.
public struct BanList: Sendable, Equatable {
    public private(set) var bans: [Ban]

    public init(_ bans: [Ban] = []) {
        self.bans = bans
    }

    /// The ban that refuses this name or address, if any.
    public func matching(name: String, address: String) -> Ban? {
        let key = Username.key(for: name)
        return bans.first { $0.name.map(Username.key(for:)) == key || ($0.address != nil && $0.address == address) }
    }

    public func matching(address: String) -> Ban? {
        bans.first { $0.address != nil && $0.address == address }
    }

    public mutating func add(_ ban: Ban) {
        bans.append(ban)
    }

    /// Removes every ban that names `target` as a username (ignoring case) or as an address; returns them.
    public mutating func remove(matching target: String) -> [Ban] {
        let key = Username.key(for: target)
        let matches = { (ban: Ban) in ban.name.map(Username.key(for:)) == key || ban.address == target }
        let removed = bans.filter(matches)
        bans.removeAll(where: matches)
        return removed
    }
}
