/// Where a cluster keeps its accounts and its password-attempt buckets (PostgreSQL, through the cluster link).
///
/// Every node writes through it, and a write counts only once it has said so: two nodes never give one name to
/// two people, and N nodes never allow N times the guesses. Each node's ``AccountStore`` keeps a copy for
/// look-ups, which the link brings up to date with every change, its own and the other nodes'. A thrown error
/// means the database could not be asked (the link is down or slow): nothing was changed that the caller is
/// told of, and the user is told to try again.
public protocol AccountDatabase: Sendable {
    /// Registers `account` unless its key has an account, is held until after `now`, or `capacity` accounts
    /// exist.
    func register(_ account: Account, capacity: Int, now: Timestamp) async throws -> AccountStore.RegisterOutcome

    /// Applies `change` to the account under `key` as the database has it now; the account after the change,
    /// or nil when there is none.
    func update(key: String, _ change: @escaping @Sendable (inout Account) -> Void) async throws -> Account?

    /// Removes the account under `key` (holding its name until `holdUntil`, if given); the removed account, or
    /// nil when there was none.
    func remove(key: String, holdUntil: Timestamp?) async throws -> Account?

    /// Whether both buckets (the account and address together, and the address) allow a password attempt now.
    func mayAttemptPassword(accountKey: String, addressKey: String, limits: AccountLimits) async throws -> Bool

    /// Charges a wrong password to both buckets.
    func passwordFailed(accountKey: String, addressKey: String, limits: AccountLimits) async throws
}
