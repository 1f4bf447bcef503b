internal import COpenSSL

/// SHA-256 fingerprints of certificates (over the DER encoding, like `openssl x509 -fingerprint`).
enum CertificateDigest {
    /// `certificate` is an `X509 *`, borrowed.
    static func sha256(_ certificate: OpaquePointer) -> [UInt8]? {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: CUnsignedInt = 0
        OpenSSLErrorQueue.clear()
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return Array(digest.prefix(Int(length)))
    }

    /// `3fa2...`: the form ``TLSHandshakeCompleted/peerCertificateFingerprint`` uses.
    static func lowercaseHex(_ digest: [UInt8]) -> String {
        digest.map { self.hexByte($0, uppercase: false) }.joined()
    }

    /// `3F:A2:...`: the form `openssl x509 -fingerprint -sha256` prints.
    static func colonSeparatedUppercaseHex(_ digest: [UInt8]) -> String {
        digest.map { self.hexByte($0, uppercase: true) }.joined(separator: ":")
    }

    private static func hexByte(_ byte: UInt8, uppercase: Bool) -> String {
        let text = String(byte, radix: 16, uppercase: uppercase)
        return byte < 16 ? "0" + text : text
    }
}
