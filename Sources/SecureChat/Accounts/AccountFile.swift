import Foundation

/// Keeps the accounts in a JSON file (`--account-file`): `{"version": 1, "accounts": [...], "held": [...]}`.
///
/// Written like the ban file: a new file with mode 0600 beside the old one, fsync-ed, renamed over it, and the
/// directory fsync-ed, so a crash leaves the old accounts or the new ones, never half a file. It holds password
/// hashes: nobody but the server's user may read it. A file that does not parse, or breaks a rule below, stops
/// the server at start with the path and the reason: starting without some accounts would hand their names to
/// whoever asks first.
public actor AccountFile {
    public let path: String

    /// The only version written and read.
    public static let formatVersion = 1
    /// 100,000 accounts with two certificates each take about 40 MB of JSON.
    public static let maximumFileBytes = 64 << 20
    /// The longest reason a load error shows: a decoder's message can quote the file.
    static let maximumReasonLength = 300

    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot read account file \(path): \(reason)" }
    }

    public init(path: String) {
        self.path = path
    }

    struct Contents: Codable {
        var version: Int
        var accounts: [Account]
        var held: [HeldName]
    }

    /// Reads the file; a missing one is no accounts yet. The file is read up to `maximumFileBytes`, without
    /// trusting anything in it: each name must be a valid username with its own key, each hash a bounded
    /// argon2id hash, each fingerprint a SHA-256 one, and no key may appear twice.
    public static func load(path: String) throws -> AccountList {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, maximumBytes: maximumFileBytes)
        } catch let error as FileSystem.ReadError {
            if !FileSystem.exists(path) { return AccountList() }
            throw LoadError(path: path, reason: TextSanitizer.bounded(error.reason))
        }
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: Data(bytes))
        } catch {
            throw LoadError(path: path, reason: "not a valid account file (" + TextSanitizer.bounded("\(error)") + ")")
        }
        guard contents.version == formatVersion else {
            throw LoadError(path: path, reason: "version \(contents.version) is not \(formatVersion)")
        }
        var list = AccountList()
        for account in contents.accounts {
            if let problem = problem(with: account) {
                throw LoadError(path: path, reason: "account \(TextSanitizer.bounded(account.name)): \(problem)")
            }
            guard list.account(forKey: account.key) == nil, list.held(forKey: account.key) == nil else {
                throw LoadError(path: path, reason: "account \(account.name) is in the file twice (or its look-alike)")
            }
            list.insert(account)
        }
        for held in contents.held {
            guard case .success(let name) = Username.validate(held.name), name.key == held.key else {
                throw LoadError(path: path, reason: "held name \(TextSanitizer.bounded(held.name)) is not a valid name")
            }
            guard list.account(forKey: held.key) == nil, list.held(forKey: held.key) == nil else {
                throw LoadError(path: path, reason: "held name \(held.name) is in the file twice (or its look-alike)")
            }
            list.hold(held)
        }
        return list
    }

    /// What is wrong with an account read from the file, or nil.
    static func problem(with account: Account) -> String? {
        guard case .success(let name) = Username.validate(account.name) else { return "not a valid name" }
        guard name.key == account.key else {
            return "key \(TextSanitizer.bounded(account.key)) is not its look-alike key"
        }
        if let hash = account.hash, PasswordHash(phc: hash) == nil {
            return "its hash is not an argon2id hash in PHC form within bounds"
        }
        if account.certificates.count > Account.maximumCertificates {
            return "more than \(Account.maximumCertificates) certificates"
        }
        if !account.certificates.allSatisfy({ $0.utf8.count == 64 && CertificateFingerprint.isSHA256($0) }) {
            return "a certificate fingerprint is not 64 lowercase hex digits"
        }
        return nil
    }

    /// Writes `list`: to a new file beside the old one, fsync-ed, renamed over it, directory fsync-ed.
    func save(_ list: AccountList) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(
            Contents(version: Self.formatVersion, accounts: list.accounts, held: list.heldNames))
        do {
            try FileSystem.writeFile(Array(data), to: path, mode: 0o600)
        } catch {
            throw LoadError(path: path, reason: "cannot write: \(error)")
        }
    }
}
