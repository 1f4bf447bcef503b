/// A room's name: `#` followed by 1–32 of `a-z`, `0-9`, `_`, `-`. Typing the `#` is optional; upper-case
/// letters are folded to lower case.
///
/// Two names that look alike are one room: names compare and hash by their skeleton (the one usernames use,
/// `Username.key(for:)`), so `#1obby` is `#lobby` and `#rnain` is `#main`. The hub resolves a name to the
/// room that exists under its skeleton, so a look-alike never opens a second room.
public struct RoomName: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    /// The skeleton: what equality and hashing use.
    public let key: String

    public static let lobby = RoomName(uncheckedValue: "#lobby")
    public static let maximumLength = 32

    private init(uncheckedValue: String) {
        self.value = uncheckedValue
        self.key = Username.key(for: uncheckedValue)
    }

    /// Parses what a user typed after `/join`; nil when it is not a valid room name.
    public init?(parsing text: String) {
        var body = Substring(text)
        if body.hasPrefix("#") { body = body.dropFirst() }
        // The bytes are checked before folding: Unicode lower-casing maps the Kelvin sign (U+212A) to "k", so
        // checking after it let `#\u{212A}ey` pass as `#key`.
        guard (1...Self.maximumLength).contains(body.utf8.count),
            body.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            })
        else { return nil }
        self.value = "#" + body.lowercased()
        self.key = Username.key(for: value)
    }

    public static func == (lhs: RoomName, rhs: RoomName) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    public var description: String { value }
}
