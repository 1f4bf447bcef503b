extension TLSError {
    /// A short, label-friendly reason: OpenSSL's reason string without its error-code prefix
    /// ("wrong version number"), or the error's kind when OpenSSL gave none.
    var shortReason: String {
        if let range = reason.range(of: "::", options: .backwards) {
            let text = reason[range.upperBound...].prefix(64)
            if !text.isEmpty { return String(text) }
        }
        return code.description
    }
}
