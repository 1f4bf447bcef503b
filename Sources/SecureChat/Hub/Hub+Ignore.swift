/// `/ignore` and `/unignore`: a member stops (or starts again) getting one name's chat lines and DMs, for the
/// rest of their session. The name is held by its skeleton, so a look-alike of it is ignored too.
extension Hub {
    /// Most names one member may ignore.
    public static let ignoreLimit = 100

    /// `/ignore <name>`, or the list with nil.
    public func ignore(by id: ConnectionID, target: String?) -> IgnoreOutcome {
        guard let member = members[id] else { return .noSuchUser }
        guard let target else {
            return .list(member.ignoring.sorted { $0.key < $1.key }.map(\.value))
        }
        let key = Username.key(for: target)
        if key == member.name.key { return .toSelf }
        if let shown = member.ignoring[key] { return .ignoring(shown) }
        guard let targetID = idsByName[key], let ignored = members[targetID] else { return .noSuchUser }
        guard member.ignoring.count < Self.ignoreLimit else { return .listFull }
        members[id]!.ignoring[key] = ignored.name.display
        ignorers[key, default: []].insert(id)
        return .ignoring(ignored.name.display)
    }

    /// `/unignore <name>`.
    public func unignore(by id: ConnectionID, target: String) -> IgnoreOutcome {
        let key = Username.key(for: target)
        guard let shown = members[id]?.ignoring.removeValue(forKey: key) else { return .notIgnored }
        ignorers[key]?.remove(id)
        if ignorers[key]?.isEmpty == true { ignorers[key] = nil }
        return .unignored(shown)
    }

    /// A member leaves: whom they ignored no longer matters.
    func stopIgnoring(_ member: Member, id: ConnectionID) {
        for key in member.ignoring.keys {
            ignorers[key]?.remove(id)
            if ignorers[key]?.isEmpty == true { ignorers[key] = nil }
        }
    }
}
