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

/// A unique id per accepted connection, for logs and for the hub's bookkeeping.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: UInt64

    public init(_ value: UInt64) {
        self.value = value
    }

    public var description: String { String(value) }

    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.value < rhs.value }
}

/// What the hub knows about a connection besides its name.
public struct ClientInfo: Sendable {
    public let id: ConnectionID
    /// The peer's IP address, without port.
    public let address: String
    public let transport: Transport
    public let connectedAt: Timestamp
    /// SHA-256 of a verified TLS client certificate, lowercase hex.
    public let certificateFingerprint: String?

    public init(
        id: ConnectionID,
        address: String,
        transport: Transport,
        connectedAt: Timestamp,
        certificateFingerprint: String? = nil
    ) {
        self.id = id
        self.address = address
        self.transport = transport
        self.connectedAt = connectedAt
        self.certificateFingerprint = certificateFingerprint
    }
}
