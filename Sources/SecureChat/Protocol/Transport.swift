/// How a client reached the server.
public enum Transport: Sendable, Equatable, CustomStringConvertible {
    case plaintext
    case tls(version: String, cipher: String)

    public var isEncrypted: Bool {
        if case .tls = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .plaintext: return "plaintext"
        case .tls(let version, let cipher): return "TLS (\(version), \(cipher))"
        }
    }
}
