internal import COpenSSL

/// A TLS protocol version a ``TLSContext`` may negotiate. Older versions are not offered at all.
public enum TLSProtocolVersion: Sendable, Hashable {
    case tlsv1_2
    case tlsv1_3

    var openSSLValue: CInt {
        switch self {
        case .tlsv1_2: TLS1_2_VERSION
        case .tlsv1_3: TLS1_3_VERSION
        }
    }
}
