/// The one canonical form of a certificate fingerprint: lowercase hex, no colons. That is what the TLS layer
/// reports for a client certificate; operators may type it as `openssl x509 -fingerprint` prints it.
public enum CertificateFingerprint {
    /// `AB:CD:...` or `abcd...` → `abcd...`.
    public static func normalize(_ text: String) -> String {
        text.lowercased().filter { $0 != ":" }
    }

    /// Whether `text` names a SHA-256 fingerprint: 64 hex digits once normalised.
    public static func isSHA256(_ text: String) -> Bool {
        let hex = normalize(text)
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit)
    }
}
