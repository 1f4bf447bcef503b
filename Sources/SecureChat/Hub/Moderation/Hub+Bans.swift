/// `/ban`, `/unban` and `/bans`. The list itself lives in the ``BanStore`` (shared with the accept path); the
/// hub decides who may ban what and disconnects whoever a new ban matches.
extension Hub {
    /// `/ban <user> [reason]` bans the user's name and the network they connect from (their IPv4 address,
    /// or their IPv6 /64); `/ban <network> [reason]` bans a network (`203.0.113.0/24`, `2001:db8::/48`) and
    /// disconnects everyone in it. An operator never bans the network they are connected from (for a user who
    /// shares it, only the name is banned), and never another operator.
    public func ban(by id: ConnectionID, target: String, reason: String?) -> OperatorOutcome {
        guard let op = members[id] else { return .noSuchUser }
        guard op.isOperator else { return .notOperator }
        if clusterUnavailable { return .clusterUnavailable }
        if idsByName[Username.key(for: target)] == nil, let network = try? IPNetwork(target) {
            return banNetwork(network, by: op, reason: reason)
        }
        switch checkTarget(by: id, target) {
        case .failure(let outcome): return outcome
        case .success(let op, let victim):
            guard chargeBan(by: id) else { return .banningTooFast }
            let victimNetwork = IPAddress(victim.info.address).map(IPNetwork.init(host:))
            let ownNetwork = victimNetwork.map { network in IPAddress(op.info.address).map(network.contains) ?? false }
            let network = ownNetwork == true ? nil : victimNetwork
            let ban = Ban(
                name: victim.name.display, network: network, bannedBy: op.name.display, bannedAt: .now(), reason: reason
            )
            guard bans.add(ban) == .added else { return .banListFull }
            cluster?.banAdded(ban)
            moderationLog.log(
                "ban added",
                metadata: ["user": "\(victim.name)", "peer": "\(network.map { "\($0)" } ?? "-")", "by": "\(op.name)"],
                to: logger
            )
            expel(victim, by: op, .banned, reason: reason)
            return network == nil && victimNetwork != nil ? .bannedNameOnly : .done
        }
    }

    private func banNetwork(_ network: IPNetwork, by op: Member, reason: String?) -> OperatorOutcome {
        let narrowest = Ban.narrowestChatPrefix(for: network.address.family)
        if network.prefixLength < narrowest { return .networkTooWide(network.description, narrowest: narrowest) }
        if let own = IPAddress(op.info.address), network.contains(own) { return .ownNetwork(network.description) }
        guard chargeBan(by: op.info.id) else { return .banningTooFast }
        let ban = Ban(name: nil, network: network, bannedBy: op.name.display, bannedAt: .now(), reason: reason)
        guard bans.add(ban) == .added else { return .banListFull }
        cluster?.banAdded(ban)
        moderationLog.log("network banned", metadata: ["network": "\(network)", "by": "\(op.name)"], to: logger)
        let inside = members.values.filter { member in
            !member.isOperator && !isConfiguredOperator(member.info)
                && IPAddress(member.info.address).map(network.contains) == true
        }
        for victim in inside { expel(victim, by: op, .banned, reason: reason) }
        return .bannedNetwork(network.description, disconnected: inside.count)
    }

    /// Takes one ban from the operator's budget (`banBurst` at once, then `bansPerMinute`); false when it
    /// is spent.
    private func chargeBan(by id: ConnectionID) -> Bool {
        guard members[id] != nil else { return false }
        if members[id]!.banBudget == nil { members[id]!.banBudget = configuration.banBudget }
        return members[id]!.banBudget!.admit(now: .now())
    }

    /// `/unban <name|address|network|#handle>`. An operator who may not see addresses lifts a user's ban by
    /// its name or its `/bans` handle: an address lifts only a ban on that network alone, so guessing
    /// addresses at `/unban` tells nothing.
    public func unban(by id: ConnectionID, target: String) -> OperatorOutcome {
        guard let op = members[id] else { return .noSuchUser }
        guard op.isOperator else { return .notOperator }
        if clusterUnavailable { return .clusterUnavailable }
        let lifted: [Ban]
        if target.hasPrefix("#") {
            lifted = Int(target.dropFirst()).map { bans.remove(handle: $0) } ?? []
        } else {
            lifted = bans.remove(matching: target, includingNamed: maySeeAddresses(op.info))
        }
        if lifted.isEmpty { return .notBanned }
        cluster?.bansLifted(lifted)
        moderationLog.log("ban lifted", metadata: ["target": "\(target)", "by": "\(op.name)"], to: logger)
        return .done
    }

    /// `/bans [page]`: nil for a non-operator. Addresses are in it only for an operator configured by
    /// certificate; every ban has a `#N` handle that `/unban` takes.
    public func banPage(_ number: Int, seenBy id: ConnectionID) -> BanPage? {
        guard let member = members[id], member.isOperator else { return nil }
        let page = bans.page(number)
        return BanPage(
            bans: page.bans, number: number, pages: page.pages, total: page.total, handles: bans.handles(of: page.bans),
            showsAddresses: maySeeAddresses(member.info)
        )
    }

    /// Only an operator configured by `--operator-fingerprint` sees addresses: under the first-user rule the
    /// operator is whoever connected first.
    func maySeeAddresses(_ info: ClientInfo) -> Bool {
        isConfiguredOperator(info)
    }

    /// `/bans` whole (tests and small lists): nil for a non-operator.
    public func banList(seenBy id: ConnectionID) -> [Ban]? {
        guard members[id]?.isOperator == true else { return nil }
        return bans.list.bans
    }

    /// SIGHUP: reads the ban file again (merged with bans not saved yet) and disconnects whoever the bans it
    /// brought in match. Returns how many bans it brought in; a bad file throws and changes nothing.
    @discardableResult
    public func reloadBans() throws -> Int {
        let brought = BanList(try bans.reload())
        disconnectMatching(brought)
        return brought.count
    }

    /// Disconnects the members of this node that `brought` (bans new to the list) match, configured operators
    /// excepted.
    func disconnectMatching(_ brought: BanList) {
        guard brought.count > 0 else { return }
        let matched = members.values.filter { member in
            member.node == nil && !isConfiguredOperator(member.info)
                && (brought.matching(name: member.name.display) != nil
                    || brought.matching(address: member.info.address) != nil)
        }
        for member in matched {
            let ban = brought.matching(name: member.name.display) ?? brought.matching(address: member.info.address)
            remove(
                member.info.id,
                reason: .removedByOperator(.init(.banned, by: ban?.bannedBy ?? "the ban file", reason: ban?.reason))
            )
        }
    }

    /// Writes the ban list now and waits until it is on disk (at shutdown, so no ban is lost to a save that
    /// was still in flight).
    public func saveBans() async {
        await bans.save()
    }
}

/// One page of `/bans`.
public struct BanPage: Sendable, Equatable {
    public let bans: [Ban]
    /// From 1.
    public let number: Int
    public let pages: Int
    public let total: Int
    /// The `#N` handle of each of `bans`, for `/unban #N`.
    public var handles: [Int] = []
    /// Whether the operator asking may see addresses and networks.
    public var showsAddresses = true
}
