/// Where ``DevelopmentCertificates`` put (or found) a CA and server certificate.
public struct DevelopmentCertificateSet: Sendable, Hashable {
    /// `ca.crt`: the CA clients should trust (`openssl s_client -CAfile ...`). It may be absent if the
    /// server certificate was supplied by someone else; ``caFingerprintSHA256`` is then `nil`.
    public let caCertificatePath: String
    /// `server.crt`: leaf certificate followed by the CA, for
    /// ``TLSContext/server(certificateChainPath:privateKeyPath:clientCAPath:)``.
    public let certificatePath: String
    /// `server.key` (mode 0600).
    public let privateKeyPath: String
    /// SHA-256 of `ca.crt` as `openssl x509 -fingerprint -sha256` prints it (`AB:CD:...`).
    public let caFingerprintSHA256: String?
    /// Whether the server certificate was created by this call (`false`: existing files were used).
    public let created: Bool
    /// Whether it was created to replace one about to expire (``created`` is then `true` as well).
    public var renewed = false
    /// Client certificates made by ``DevelopmentCertificates/generate(directory:clientCertificateNames:)``.
    public let clientCertificates: [DevelopmentClientCertificate]
}

/// A client certificate signed by the development CA, for mutual TLS in tests.
public struct DevelopmentClientCertificate: Sendable, Hashable {
    /// The certificate's common name, also its file name stem.
    public let name: String
    /// `<name>.crt`: the client certificate followed by the CA.
    public let certificatePath: String
    /// `<name>.key` (mode 0600).
    public let privateKeyPath: String
    /// SHA-256 of the certificate, lowercase hex without colons: equal to the
    /// ``TLSHandshakeCompleted/peerCertificateFingerprint`` a server reports for this client.
    public let fingerprintSHA256: String
}
