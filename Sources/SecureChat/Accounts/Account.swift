/// A registered name: who owns it and how they prove it (a password hash, client certificates, or both).
public struct Account: Codable, Sendable, Equatable {
    /// The name as registered, shown as typed.
    public var name: String
    /// The name's look-alike key (`Username.key`): what reserves it, and everything that folds to it.
    public var key: String
    /// The password's argon2id hash in PHC form; nil for an account that logs in by certificate only.
    public var hash: String?
    /// SHA-256 fingerprints of the client certificates bound to the account (`CertificateFingerprint` form).
    public var certificates: [String]
    public var created: Timestamp
    public var lastLogin: Timestamp?
    /// The password is a one-time password an operator gave out (`/account reset`): the log-in that uses it
    /// removes it, and the owner sets a new one with `/register <password>`.
    public var oneTime: Bool? = nil

    /// Most certificates one account may bind.
    public static let maximumCertificates = 8

    public init(
        name: Username, hash: PasswordHash?, certificates: [String] = [], created: Timestamp,
        lastLogin: Timestamp? = nil
    ) {
        self.name = name.display
        self.key = name.key
        self.hash = hash?.phc
        self.certificates = certificates
        self.created = created
        self.lastLogin = lastLogin
    }

    /// The stored hash, parsed (the file's loader has checked that it parses).
    var passwordHash: PasswordHash? { hash.flatMap(PasswordHash.init(phc:)) }
}

/// A name given up with `/unregister`: nobody may use or register it until `until`, so nobody can pass for its
/// owner the moment they leave.
public struct HeldName: Codable, Sendable, Equatable {
    public var name: String
    public var key: String
    public var until: Timestamp

    /// How long an unregistered name stays unclaimable.
    public static let holdSeconds = 30 * 24 * 3600
}
