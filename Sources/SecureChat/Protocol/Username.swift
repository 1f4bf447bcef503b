/// A validated username: 1–24 ASCII letters, digits, `_` or `-`, shown as typed, compared ignoring case.
public struct Username: Hashable, Sendable, CustomStringConvertible {
    /// The name as the user typed it.
    public let display: String
    /// The name in lower case: the key for uniqueness, bans and look-ups.
    public let key: String

    public static let maximumLength = 24

    /// Names nobody may take, because they would let a user pass for the server or its staff.
    public static let reserved: Set<String> = [
        "server", "admin", "administrator", "operator", "op", "root", "system", "sysop", "moderator", "mod",
        "securechat", "nobody", "everyone", "anonymous", "dm",
    ]

    /// Why a name was refused, worded for the user.
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case tooLong
        case invalidCharacters
        case reserved

        public var description: String {
            switch self {
            case .empty: return "a username needs at least one character"
            case .tooLong: return "a username has at most \(Username.maximumLength) characters"
            case .invalidCharacters: return "a username may only use letters A-Z a-z, digits, _ and -"
            case .reserved: return "that name is reserved"
            }
        }
    }

    /// Validates `text` (already sanitised) as a username.
    public static func validate(_ text: String) -> Result<Username, Problem> {
        let utf8 = text.utf8
        if utf8.isEmpty { return .failure(.empty) }
        let allowed = utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        if !allowed { return .failure(.invalidCharacters) }
        if utf8.count > maximumLength { return .failure(.tooLong) }
        let key = text.lowercased()
        if reserved.contains(key) { return .failure(.reserved) }
        return .success(Username(display: text, key: key))
    }

    public var description: String { display }

    public static func == (lhs: Username, rhs: Username) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}
