internal import CArgon2

/// The one place that calls the Argon2 C library: argon2id over a password and a salt, to raw bytes. Salts,
/// the PHC string and the comparison are Swift (`PasswordHash`, `PasswordHasher`), so what crosses into C is
/// two byte arrays and three bounded integers.
enum Argon2id {
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "argon2id failed: " + String(cString: argon2_error_message(code)) }
    }

    /// The argon2id digest of `password` with `salt`, `outputLength` bytes long. Blocking and memory-hard (it
    /// allocates `parameters.memoryKiB` KiB): call it on the hashing pool only, never on an event loop.
    static func digest(
        password: [UInt8], salt: [UInt8], parameters: PasswordHashParameters, outputLength: Int
    ) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: outputLength)
        let code = password.withUnsafeBytes { password in
            salt.withUnsafeBytes { salt in
                output.withUnsafeMutableBytes { output in
                    argon2id_hash_raw(
                        parameters.passes, parameters.memoryKiB, parameters.lanes, password.baseAddress,
                        password.count, salt.baseAddress, salt.count, output.baseAddress, output.count)
                }
            }
        }
        guard code == ARGON2_OK.rawValue else { throw Failure(code: code) }
        return output
    }
}
