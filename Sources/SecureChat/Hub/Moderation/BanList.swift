/// The server's bans in the order they were made, indexed so that checking a name costs one dictionary look-up
/// and checking an address one look-up per prefix length in use (a /32 and a /64 ban: two), however many bans
/// there are. The indexes are rebuilt on every change: bans change rarely and are capped.
public struct BanList: Sendable, Equatable {
    public private(set) var bans: [Ban]
    /// Name skeleton → the ban's position.
    private var byName: [String: Int] = [:]
    /// Prefix length → network → the ban's position. Keyed by the value, not its text: checking an address
    /// on every accept builds no string.
    private var byNetwork: [Int: [IPNetwork: Int]] = [:]

    public init(_ bans: [Ban] = []) {
        self.bans = bans
        reindex()
    }

    public var count: Int { bans.count }

    /// The ban on this name (any look-alike of it), if any.
    public func matching(name: String) -> Ban? {
        byName[Username.key(for: name)].map { bans[$0] }
    }

    /// The ban on a network that contains `address`, if any.
    public func matching(address: IPAddress) -> Ban? {
        for (prefixLength, networks) in byNetwork {
            guard let network = IPNetwork(containing: address, prefixLength: prefixLength),
                let index = networks[network]
            else { continue }
            return bans[index]
        }
        return nil
    }

    /// As `matching(address:)` for an address in text; nil for text that is not an address.
    public func matching(address: String) -> Ban? {
        IPAddress(address).flatMap(matching(address:))
    }

    /// The ban that refuses this name or address, if any (the name's first).
    public func matching(name: String, address: String) -> Ban? {
        matching(name: name) ?? matching(address: address)
    }

    public mutating func add(_ ban: Ban) {
        bans.append(ban)
        reindex()
    }

    /// Removes every ban that names `target`: a name (any look-alike), or an address or network in text (a ban
    /// on exactly that network, as `IPNetwork` reads it: `2001:db8::5` is its /64). Returns what was removed.
    ///
    /// With `includingNamed` false an address or network lifts only bans on a network alone, never a user's
    /// ban that also names the address it was made from: an operator who may not see addresses cannot find
    /// one by guessing it at `/unban`.
    public mutating func remove(matching target: String, includingNamed: Bool = true) -> [Ban] {
        let network = try? IPNetwork(target)
        let key = Username.key(for: target)
        let matches = { (ban: Ban) in
            if let network { return ban.network == network && (includingNamed || ban.name == nil) }
            return ban.nameKey == key
        }
        let removed = bans.filter(matches)
        if !removed.isEmpty {
            bans.removeAll(where: matches)
            reindex()
        }
        return removed
    }

    /// Removes every ban with this target. Returns what was removed.
    mutating func remove(target: Ban.Target) -> [Ban] {
        let removed = bans.filter { $0.target == target }
        if !removed.isEmpty {
            bans.removeAll { $0.target == target }
            reindex()
        }
        return removed
    }

    /// What the bans refuse, as a set.
    var targets: Set<Ban.Target> { Set(bans.map(\.target)) }

    /// This list with `changes` replayed on it: the targets `removed` taken out, then the bans `added` that
    /// it does not already hold. Linear in the sizes involved.
    func replaying(added: [Ban], removed: Set<Ban.Target>) -> BanList {
        var result = bans.filter { !removed.contains($0.target) }
        var present = Set(result.map(\.target))
        for ban in added where present.insert(ban.target).inserted { result.append(ban) }
        return BanList(result)
    }

    private mutating func reindex() {
        byName = [:]
        byNetwork = [:]
        for (index, ban) in bans.enumerated() {
            if let key = ban.nameKey, byName[key] == nil { byName[key] = index }
            if let network = ban.network, byNetwork[network.prefixLength]?[network] == nil {
                byNetwork[network.prefixLength, default: [:]][network] = index
            }
        }
    }
}
