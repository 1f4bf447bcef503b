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
