/// A validated username: 1–24 ASCII letters, digits, `_` or `-`, shown as typed, compared by its skeleton.
///
/// Two names that look alike are one name: uniqueness, bans and look-ups all go through `key`, the name's
/// skeleton (see `key(for:)`), so `AIice` (capital i) is taken while `alice` is online and `b0b` while `bob` is.
public struct Username: Hashable, Sendable, CustomStringConvertible {
    /// The name as the user typed it.
    public let display: String
    /// The name's skeleton: the key for uniqueness, bans and look-ups.
    public let key: String

    public static let maximumLength = 24

    /// Names nobody may take, because they would let a user pass for the server or its staff. They are refused
    /// under their skeleton and with digits, `_` or `-` added (`admin_`, `Server1`, `r00t`, `0perator`).
    public static let reserved: Set<String> = [
        "server", "admin", "administrator", "operator", "op", "root", "system", "sysop", "moderator", "mod",
        "securechat", "nobody", "everyone", "anonymous", "dm",
    ]

    /// The skeletons of `reserved`.
    private static let reservedKeys = Set(reserved.map { key(for: $0) })

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
        if isReserved(text) { return .failure(.reserved) }
        return .success(Username(display: text, key: key(for: text)))
    }

    /// The skeleton of a name as typed, valid or not: ASCII letters folded to lower case, `0` read as `o`,
    /// `1`, `i` and `l` read as one letter (`l`), and `m` read as `rn` and `w` as `vv` (the multi-letter
    /// look-alikes of Unicode TR39's confusables for ASCII), so `rnallory` is `mallory` and `adrnin` is
    /// `admin`. Use it to look up a name someone typed (`/msg B0B` finds `bob`); it equals `key` for a valid
    /// name. Letters are expanded (`m` to `rn`), never pairs contracted, so every spelling of one look meets
    /// in one skeleton whichever way it is cut (`vvv`, `wv` and `vw` are all `vvv`). At most twice as long as
    /// `typed`.
    public static func key(for typed: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(typed.utf8.count)
        for byte in typed.utf8 {
            var folded = byte
            if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) { folded += 0x20 }
            switch folded {
            case UInt8(ascii: "0"):
                bytes.append(UInt8(ascii: "o"))
            case UInt8(ascii: "1"), UInt8(ascii: "i"):
                bytes.append(UInt8(ascii: "l"))
            case UInt8(ascii: "m"):
                bytes.append(UInt8(ascii: "r"))
                bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "w"):
                bytes.append(UInt8(ascii: "v"))
                bytes.append(UInt8(ascii: "v"))
            default:
                bytes.append(folded)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `name` is a reserved name in disguise: its skeleton, its skeleton without any digit, `_` or `-`,
    /// or without `_` and `-` and with any number of digits, `_` and `-` trimmed from either end, is a reserved
    /// skeleton. Every trim is tried, not only the longest, because `0` and `1` are both decoration and letters:
    /// `0perat0r8` is `operator` with `8` added, and `00p` is `op` with `0` added.
    private static func isReserved(_ name: String) -> Bool {
        let isDecoration: (Character) -> Bool = { $0 == "_" || $0 == "-" || $0.isASCII && $0.isNumber }
        let isReservedText: (String) -> Bool = { !$0.isEmpty && reservedKeys.contains(key(for: $0)) }
        if isReservedText(name) || isReservedText(name.filter { !isDecoration($0) }) { return true }
        let characters = Array(name.filter { $0 != "_" && $0 != "-" })
        let leading = characters.prefix(while: isDecoration).count
        let trailing = characters.reversed().prefix(while: isDecoration).count
        for start in 0...leading {
            for end in 0...trailing where start + end < characters.count {
                if isReservedText(String(characters[start..<(characters.count - end)])) { return true }
            }
        }
        return false
    }

    public var description: String { display }

    public static func == (lhs: Username, rhs: Username) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}
