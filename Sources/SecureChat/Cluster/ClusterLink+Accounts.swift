import Foundation
import PostgresNIO

/// Accounts in a cluster: every change and every wrong password is written to the database first (the
/// functions of ``ClusterSchemaVersion5``), on the work connection; the node's ``AccountStore`` is its copy,
/// updated by each write this node makes and by the listener, which reads every change past the copy's
/// revision when a doorbell `a` rings and at every catch-up.
extension ClusterLink: AccountDatabase {
    /// How many times an update is tried again when the account changed between its read and its write.
    static let accountUpdateAttempts = 5
    /// Most changed accounts one read takes.
    static let accountChangesPage = 1000
    /// The name, in `securechat_settings`, of the highest revision pruning has deleted.
    static let accountsPrunedSetting = "accounts_pruned_through"

    public func register(_ account: Account, capacity: Int, now: Timestamp) async throws
        -> AccountStore.RegisterOutcome
    {
        try requireLink()
        let json = try Self.json(account)
        let capacity = Int64(capacity)
        let (outcome, revision) = try await workConnection.run { [logger] connection in
            let rows = try await connection.query(
                """
                SELECT outcome, revision FROM securechat_register_account(\(account.key), \(json)::jsonb,
                    \(Int64(now.secondsSinceEpoch)), \(capacity))
                """, logger: logger)
            var result: (String, Int64?) = ("", nil)
            for try await row in rows.decode((String, Int64?).self) { result = row }
            return result
        }
        switch outcome {
        case "registered":
            if let revision {
                accounts.applyOwnWrite(AccountChange(key: account.key, account: account, held: nil, revision: revision))
            }
            return .registered
        case "taken": return .taken
        case "held": return .held
        case "full": return .full
        default: throw AccountDatabaseError.unexpectedAnswer(outcome)
        }
    }

    public func update(key: String, _ change: @escaping @Sendable (inout Account) -> Void) async throws -> Account? {
        try await rewrite(key: key) { account in
            change(&account)
            return (account, nil)
        }
    }

    public func remove(key: String, holdUntil: Timestamp?) async throws -> Account? {
        var removed: Account?
        _ = try await rewrite(key: key) { account in
            removed = account
            return (nil, holdUntil)
        }
        return removed
    }

    /// Reads the account under `key` and writes what `body` makes of it (an account, or none with an
    /// optional hold), if nobody changed it in between; otherwise reads it again. Returns the account
    /// written, or nil when there was none to change.
    private func rewrite(
        key: String, _ body: (inout Account) -> (Account?, Timestamp?)
    ) async throws -> Account? {
        try requireLink()
        for _ in 1...Self.accountUpdateAttempts {
            guard let (current, expected) = try await readAccount(key: key) else { return nil }
            var account = current
            let (written, holdUntil) = body(&account)
            let json = try written.map(Self.json)
            let held = holdUntil.map { Int64($0.secondsSinceEpoch) }
            let revision = try await workConnection.run { [logger] connection in
                let rows = try await connection.query(
                    "SELECT securechat_write_account(\(key), \(expected), \(json)::jsonb, \(held))",
                    logger: logger)
                var revision: Int64?
                for try await value in rows.decode(Int64?.self) { revision = value }
                return revision
            }
            guard let revision else { continue }
            let hold = holdUntil.map { HeldName(name: current.name, key: key, until: $0) }
            accounts.applyOwnWrite(AccountChange(key: key, account: written, held: hold, revision: revision))
            return written ?? current
        }
        throw AccountDatabaseError.keptChanging
    }

    /// The account under `key` as stored, with its revision; nil when the key has none.
    private func readAccount(key: String) async throws -> (Account, Int64)? {
        let row = try await workConnection.run { [logger] connection in
            let rows = try await connection.query(
                """
                SELECT account::text, revision FROM securechat_accounts
                WHERE name_key = \(key) AND account IS NOT NULL
                """, logger: logger)
            var row: (String, Int64)?
            for try await value in rows.decode((String, Int64).self) { row = value }
            return row
        }
        guard let (json, revision) = row, let account = Self.account(fromJSON: json, key: key) else { return nil }
        return (account, revision)
    }

    public func mayAttemptPassword(accountKey: String, addressKey: String, limits: AccountLimits) async throws
        -> Bool
    {
        try requireLink()
        let (pair, address) = Self.bucketKeys(accountKey: accountKey, addressKey: addressKey)
        let rates = Self.rates(limits)
        return try await workConnection.run { [logger] connection in
            let rows = try await connection.query(
                """
                SELECT securechat_login_allowed(\(pair), \(address), \(rates.0), \(rates.1), \(rates.2), \(rates.3))
                """, logger: logger)
            var allowed = false
            for try await value in rows.decode(Bool.self) { allowed = value }
            return allowed
        }
    }

    public func passwordFailed(accountKey: String, addressKey: String, limits: AccountLimits) async throws {
        try requireLink()
        let (pair, address) = Self.bucketKeys(accountKey: accountKey, addressKey: addressKey)
        let rates = Self.rates(limits)
        _ = try await workConnection.run { [logger] connection in
            try await connection.query(
                """
                SELECT securechat_login_failed(\(pair), \(address), \(rates.0), \(rates.1), \(rates.2), \(rates.3))
                """, logger: logger)
        }
    }

    /// While chat is paused the database is not asked (it is known to be out of reach): the user is told at once.
    private func requireLink() throws {
        guard isLinked else { throw AccountDatabaseError.linkDown }
    }

    private static func bucketKeys(accountKey: String, addressKey: String) -> (String, String) {
        ("p:\(accountKey) \(addressKey)", "a:\(addressKey)")
    }

    private static func rates(_ limits: AccountLimits) -> (Double, Double, Double, Double) {
        (
            limits.attemptsPerAccountAndAddress.perSecond, Double(limits.attemptsPerAccountAndAddress.burst),
            limits.attemptsPerAddress.perSecond, Double(limits.attemptsPerAddress.burst)
        )
    }

    // MARK: - Reading the changes (the listener, and the catch-up at start)

    /// Applies to the store every account change past its revision, in pages. When pruning has deleted
    /// removals this copy never read (its node was away a day or more), the whole copy is read afresh instead.
    func readAccountChanges(on connection: PostgresConnection) async throws {
        let revision = accounts.revision
        if revision > 0, try await accountsPrunedThrough(on: connection) > revision {
            return try await reloadAccounts(on: connection)
        }
        while true {
            let page = try await accountChanges(after: accounts.revision, on: connection)
            accounts.apply(page)
            if page.count < Self.accountChangesPage { return }
        }
    }

    /// Reads every account into a new copy, which replaces the old one at once.
    private func reloadAccounts(on connection: PostgresConnection) async throws {
        var all: [AccountChange] = []
        while true {
            let page = try await accountChanges(after: all.last?.revision ?? 0, on: connection)
            all += page
            if page.count < Self.accountChangesPage { break }
        }
        accounts.replaceCopy(with: all)
        logger.notice("read the cluster's accounts afresh", metadata: ["accounts": "\(accounts.list.count)"])
    }

    /// The highest revision pruning has deleted (0 when it never has).
    private func accountsPrunedThrough(on connection: PostgresConnection) async throws -> Int64 {
        let rows = try await connection.query(
            "SELECT value FROM securechat_settings WHERE name = \(Self.accountsPrunedSetting)", logger: logger)
        var value: Int64 = 0
        for try await stored in rows.decode(Int64.self) { value = stored }
        return value
    }

    /// One page of changes past `after`, in revision order.
    private func accountChanges(after: Int64, on connection: PostgresConnection) async throws -> [AccountChange] {
        let rows = try await connection.query(
            """
            SELECT name_key, account::text, held_until, revision FROM securechat_accounts
            WHERE revision > \(after) ORDER BY revision LIMIT \(Self.accountChangesPage)
            """, logger: logger)
        var changes: [AccountChange] = []
        for try await (key, json, heldUntil, revision) in rows.decode((String, String?, Int64?, Int64).self) {
            changes.append(change(key: key, json: json, heldUntil: heldUntil, revision: revision))
        }
        return changes
    }

    /// One row as a change. A row that does not hold a valid account (only the cluster's role can write the
    /// table, but nothing read is trusted) counts as no account, and is logged.
    private func change(key: String, json: String?, heldUntil: Int64?, revision: Int64) -> AccountChange {
        var account: Account?
        if let json {
            account = Self.account(fromJSON: json, key: key)
            if account == nil {
                logger.warning(
                    "ignored an account row it could not read",
                    metadata: ["key": "\(ReceivedText.field(String(key.prefix(64))))"])
            }
        }
        var held: HeldName?
        if account == nil, let heldUntil {
            // The table keeps the key only: the name as typed is shown nowhere for a held name.
            held = HeldName(name: key, key: key, until: Timestamp(secondsSinceEpoch: Int(clamping: heldUntil)))
        }
        return AccountChange(key: key, account: account, held: held, revision: revision)
    }

    static func json(_ account: Account) throws -> String {
        String(decoding: try JSONEncoder().encode(account), as: UTF8.self)
    }

    /// The account a row holds, if it decodes, passes the account file's checks and is filed under its own key.
    static func account(fromJSON json: String, key: String) -> Account? {
        guard json.utf8.count <= 64 << 10,
            let account = try? JSONDecoder().decode(Account.self, from: Data(json.utf8)),
            account.key == key, AccountFile.problem(with: account) == nil
        else { return nil }
        return account
    }
}

/// Why an account change or a password-attempt count was not made in the cluster's database.
enum AccountDatabaseError: Error {
    /// Chat is paused: the database is known to be out of reach.
    case linkDown
    /// The account changed between each read and write, `ClusterLink.accountUpdateAttempts` times.
    case keptChanging
    /// A function answered something this build does not know.
    case unexpectedAnswer(String)
}
