/// How a user proved that a registered name is theirs.
public enum LoginMethod: Sendable, Equatable, CustomStringConvertible {
    case password
    /// A client certificate bound to the account (`/register cert`, `/cert add`).
    case certificate

    public var description: String {
        switch self {
        case .password: "password"
        case .certificate: "certificate"
        }
    }
}

/// What a name someone typed at the prompt is, as far as accounts go (the session's answer to `.lookUpAccount`).
public enum AccountLookup: Sendable, Equatable {
    /// Nobody owns it: log in as today.
    case unregistered
    /// Given up with `/unregister` and unclaimable for now.
    case held
    /// Registered under `name` (as registered, which the typed name may only fold to). `certificateMatches` when
    /// the connection's client certificate is bound to it; `hasPassword` unless it logs in by certificate only.
    case registered(Username, certificateMatches: Bool, hasPassword: Bool)
}

/// The answer to `.checkPassword`.
public enum PasswordCheck: Sendable, Equatable {
    case correct
    case wrong
    /// Too many attempts lately for this account from this address, or from this address at all.
    case throttled
    /// The hashing pool's queue is full.
    case busy
}
