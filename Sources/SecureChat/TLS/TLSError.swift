/// An error from the TLS layer: loading certificates, configuring OpenSSL, or running a connection.
///
/// `description` is meant for logs and for people: it names the file involved (if any) and carries
/// OpenSSL's own reason text. Match on ``code`` to decide what to do; the set of codes may grow.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    fileprivate enum Kind: Sendable, Hashable {
        case fileUnreadable
        case invalidCertificate
        case invalidPrivateKey
        case privateKeyMismatch
        case certificateExpired
        case certificateNotYetValid
        case configurationFailed
        case handshakeFailed
        case eofDuringHandshake
        case readFailed
        case writeFailed
        case shutdownFailed
        case peerAbuse
        case certificateGenerationFailed
    }

    /// What went wrong, without the details. Compare with `==` against the static values.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let kind: Kind

        /// A file does not exist or cannot be read.
        public static let fileUnreadable = Code(kind: .fileUnreadable)
        /// A certificate file holds no usable PEM certificate.
        public static let invalidCertificate = Code(kind: .invalidCertificate)
        /// A private key file holds no usable PEM private key.
        public static let invalidPrivateKey = Code(kind: .invalidPrivateKey)
        /// The private key does not belong to the certificate.
        public static let privateKeyMismatch = Code(kind: .privateKeyMismatch)
        /// The leaf certificate's notAfter is in the past.
        public static let certificateExpired = Code(kind: .certificateExpired)
        /// The leaf certificate's notBefore is in the future.
        public static let certificateNotYetValid = Code(kind: .certificateNotYetValid)
        /// OpenSSL refused a setting (protocol versions, ciphers, groups, trust roots...).
        public static let configurationFailed = Code(kind: .configurationFailed)
        /// The TLS handshake failed (bad certificate, no common protocol or cipher, garbage...).
        public static let handshakeFailed = Code(kind: .handshakeFailed)
        /// The peer went away before the handshake finished.
        public static let eofDuringHandshake = Code(kind: .eofDuringHandshake)
        /// Decrypting data from the peer failed after the handshake.
        public static let readFailed = Code(kind: .readFailed)
        /// Encrypting data for the peer failed.
        public static let writeFailed = Code(kind: .writeFailed)
        /// Sending or processing close_notify failed.
        public static let shutdownFailed = Code(kind: .shutdownFailed)
        /// The peer made OpenSSL do unbounded work or write unbounded bytes on its own (KeyUpdate or
        /// renegotiation floods, not reading the replies), and was disconnected.
        public static let peerAbuse = Code(kind: .peerAbuse)
        /// Creating a key or certificate failed.
        public static let certificateGenerationFailed = Code(kind: .certificateGenerationFailed)

        public var description: String {
            switch self.kind {
            case .fileUnreadable: "file unreadable"
            case .invalidCertificate: "invalid certificate"
            case .invalidPrivateKey: "invalid private key"
            case .privateKeyMismatch: "private key does not match certificate"
            case .certificateExpired: "certificate expired"
            case .certificateNotYetValid: "certificate not yet valid"
            case .configurationFailed: "TLS configuration failed"
            case .handshakeFailed: "TLS handshake failed"
            case .eofDuringHandshake: "connection closed during TLS handshake"
            case .readFailed: "TLS read failed"
            case .writeFailed: "TLS write failed"
            case .shutdownFailed: "TLS shutdown failed"
            case .peerAbuse: "TLS peer abuse"
            case .certificateGenerationFailed: "certificate generation failed"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// The file involved, if any.
    public let path: String?
    /// Human-readable detail, including OpenSSL's reason text when OpenSSL reported one.
    public let reason: String

    private init(_ kind: Kind, path: String? = nil, reason: String) {
        self.code = Code(kind: kind)
        self.path = path
        self.reason = reason
    }

    public var description: String {
        var text = self.code.description
        if let path = self.path {
            text += " (\(path))"
        }
        if !self.reason.isEmpty {
            text += ": " + self.reason
        }
        return text
    }
}

extension TLSError {
    static func fileUnreadable(path: String, reason: String) -> TLSError {
        TLSError(.fileUnreadable, path: path, reason: reason)
    }

    static func invalidCertificate(path: String, reason: String) -> TLSError {
        TLSError(.invalidCertificate, path: path, reason: reason)
    }

    static func invalidPrivateKey(path: String, reason: String) -> TLSError {
        TLSError(.invalidPrivateKey, path: path, reason: reason)
    }

    static func privateKeyMismatch(path: String, reason: String) -> TLSError {
        TLSError(.privateKeyMismatch, path: path, reason: reason)
    }

    static func certificateExpired(path: String, reason: String) -> TLSError {
        TLSError(.certificateExpired, path: path, reason: reason)
    }

    static func certificateNotYetValid(path: String, reason: String) -> TLSError {
        TLSError(.certificateNotYetValid, path: path, reason: reason)
    }

    static func configurationFailed(_ reason: String) -> TLSError {
        TLSError(.configurationFailed, reason: reason)
    }

    static func handshakeFailed(_ reason: String) -> TLSError {
        TLSError(.handshakeFailed, reason: reason)
    }

    static let eofDuringHandshake = TLSError(
        .eofDuringHandshake,
        reason: "the peer closed the connection before the handshake completed"
    )

    static func readFailed(_ reason: String) -> TLSError {
        TLSError(.readFailed, reason: reason)
    }

    static func writeFailed(_ reason: String) -> TLSError {
        TLSError(.writeFailed, reason: reason)
    }

    static func shutdownFailed(_ reason: String) -> TLSError {
        TLSError(.shutdownFailed, reason: reason)
    }

    static func peerAbuse(_ reason: String) -> TLSError {
        TLSError(.peerAbuse, reason: reason)
    }

    static func certificateGenerationFailed(path: String? = nil, reason: String) -> TLSError {
        TLSError(.certificateGenerationFailed, path: path, reason: reason)
    }
}
