/// Hashes and checks passwords with argon2id. Every call is blocking and memory-hard: the server makes them on
/// ``PasswordHashingPool`` only.
public struct PasswordHasher: Sendable {
    /// What new hashes are made with; a log-in with a hash made otherwise re-hashes the password.
    public let parameters: PasswordHashParameters

    static let saltLength = 16
    static let digestLength = 32

    public init(parameters: PasswordHashParameters = .owasp) {
        precondition(parameters.isUsable, "password hash parameters out of bounds: \(parameters)")
        self.parameters = parameters
    }

    /// A new hash of `password`, with a fresh random salt.
    public func hash(_ password: String) throws -> PasswordHash {
        var random = SystemRandomNumberGenerator()
        let salt = (0..<Self.saltLength).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let digest = try Argon2id.digest(
            password: Array(password.utf8), salt: salt, parameters: parameters, outputLength: Self.digestLength)
        return PasswordHash(parameters: parameters, salt: salt, digest: digest)!
    }

    public enum Verification: Sendable, Equatable {
        case mismatch
        /// The password is right. `rehashed` is a new hash with today's parameters when the stored one was made
        /// with others: store it.
        case match(rehashed: PasswordHash?)
    }

    /// Whether `password` is the one `stored` was made from, compared in constant time.
    public func verify(_ password: String, against stored: PasswordHash) throws -> Verification {
        let digest = try Argon2id.digest(
            password: Array(password.utf8), salt: stored.salt, parameters: stored.parameters,
            outputLength: stored.digest.count)
        guard Self.constantTimeEqual(digest, stored.digest) else { return .mismatch }
        if stored.parameters == parameters { return .match(rehashed: nil) }
        return .match(rehashed: try hash(password))
    }

    /// Equal bytes, in a time that depends on the length only, never on where the first difference is.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
