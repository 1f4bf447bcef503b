import Foundation

/// A stored argon2id password hash in PHC string form: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<digest>`, salt and
/// digest in base64 without padding. Parsing is strict and bounded: anything else is not a hash.
public struct PasswordHash: Sendable, Equatable {
    public let parameters: PasswordHashParameters
    let salt: [UInt8]
    let digest: [UInt8]

    /// Argon2 version 0x13, the only one written and read.
    static let version = 19
    static let saltLengths = 8...64
    static let digestLengths = 16...64
    /// Longer than any string within the bounds above.
    static let maximumStringLength = 256

    init?(parameters: PasswordHashParameters, salt: [UInt8], digest: [UInt8]) {
        guard parameters.isUsable, Self.saltLengths.contains(salt.count), Self.digestLengths.contains(digest.count)
        else { return nil }
        self.parameters = parameters
        self.salt = salt
        self.digest = digest
    }

    /// Parses a PHC string; nil unless it is an argon2id hash of version 19 within the bounds.
    public init?(phc: String) {
        guard phc.utf8.count <= Self.maximumStringLength else { return nil }
        let fields = phc.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0].isEmpty, fields[1] == "argon2id", fields[2] == "v=\(Self.version)" else {
            return nil
        }
        var values: [Substring: UInt32] = [:]
        for pair in fields[3].split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].utf8.count <= 10, parts[1].allSatisfy(\.isASCII),
                parts[1].allSatisfy(\.isNumber), let value = UInt32(parts[1]), values[parts[0]] == nil
            else { return nil }
            values[parts[0]] = value
        }
        guard values.count == 3, let memory = values["m"], let passes = values["t"], let lanes = values["p"],
            let salt = Self.decode(fields[4]), let digest = Self.decode(fields[5])
        else { return nil }
        self.init(
            parameters: PasswordHashParameters(memoryKiB: memory, passes: passes, lanes: lanes), salt: salt,
            digest: digest)
    }

    /// The PHC string.
    public var phc: String {
        "$argon2id$v=\(Self.version)$\(parameters)$\(Self.encode(salt))$\(Self.encode(digest))"
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        // PHC's base64 has no padding, and a trailing `=` is not valid in it.
        guard !text.contains("="), text.utf8.count <= 128 else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        guard let bytes = Data(base64Encoded: padded).map(Array.init) else { return nil }
        // Canonical only: the decoder ignores the unused low bits of the last character, so `...bH1` would
        // otherwise read as `...bHQ`, and one hash would have several spellings.
        return encode(bytes) == text ? bytes : nil
    }
}
