/// What the hub keeps of accounts: how each member logged in to theirs, for `/whois`.
extension Hub {
    /// The member registered their name (`method`) or gave it up (nil).
    func setAccount(_ id: ConnectionID, _ method: LoginMethod?) {
        members[id]?.account = method
    }

    /// An operator dropped the account `name`: whoever is online under it is now unregistered.
    func accountDropped(_ name: String) {
        guard let id = idsByName[Username.key(for: name)] else { return }
        members[id]?.account = nil
    }
}
