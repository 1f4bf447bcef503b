/// The accounts and held names, by look-alike key. A value: `AccountStore` owns the live one.
public struct AccountList: Sendable, Equatable {
    private var byKey: [String: Account] = [:]
    private var heldByKey: [String: HeldName] = [:]

    public init() {}

    public var count: Int { byKey.count }
    /// In name order, for the file (a stable order keeps diffs of it readable).
    public var accounts: [Account] { byKey.values.sorted { $0.key < $1.key } }
    public var heldNames: [HeldName] { heldByKey.values.sorted { $0.key < $1.key } }

    public func account(forKey key: String) -> Account? { byKey[key] }
    public func held(forKey key: String) -> HeldName? { heldByKey[key] }

    /// The account a certificate is bound to.
    public func account(withCertificate fingerprint: String) -> Account? {
        byKey.values.first { $0.certificates.contains(fingerprint) }
    }

    mutating func insert(_ account: Account) {
        byKey[account.key] = account
    }

    @discardableResult
    mutating func remove(key: String) -> Account? {
        byKey.removeValue(forKey: key)
    }

    mutating func hold(_ held: HeldName) {
        heldByKey[held.key] = held
    }

    /// Forgets holds that ended before `now`; true if any did.
    mutating func releaseHolds(endedBy now: Timestamp) -> Bool {
        let before = heldByKey.count
        heldByKey = heldByKey.filter { $0.value.until > now }
        return heldByKey.count != before
    }

    /// Makes `key` what the cluster's database says: an account, a hold, or neither.
    mutating func replace(key: String, account: Account?, held: HeldName?) {
        byKey[key] = account
        heldByKey[key] = held
    }

    mutating func update(key: String, _ change: (inout Account) -> Void) {
        guard var account = byKey[key] else { return }
        change(&account)
        byKey[key] = account
    }
}
