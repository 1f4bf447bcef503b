internal import COpenSSL

/// A server happily starts with an expired certificate and then every client refuses it; checking the
/// validity period at load time turns that into one clear error at startup or reload.
enum CertificateValidity {
    /// Throws if `certificate` (`X509 *`, borrowed) is expired or not yet valid.
    static func check(_ certificate: OpaquePointer, path: String) throws {
        if let notAfter = X509_get0_notAfter(certificate), X509_cmp_current_time(notAfter) < 0 {
            throw TLSError.certificateExpired(
                path: path,
                reason: "the certificate expired on \(self.format(notAfter))"
            )
        }
        if let notBefore = X509_get0_notBefore(certificate), X509_cmp_current_time(notBefore) > 0 {
            throw TLSError.certificateNotYetValid(
                path: path,
                reason: "the certificate is valid only from \(self.format(notBefore)); check the clock"
            )
        }
    }

    /// Whole days from now until `certificate` (`X509 *`, borrowed) expires; negative once it has.
    static func daysLeft(_ certificate: OpaquePointer) -> Int {
        var days: CInt = 0
        var seconds: CInt = 0
        guard let notAfter = X509_get0_notAfter(certificate), ASN1_TIME_diff(&days, &seconds, nil, notAfter) == 1
        else {
            return 0
        }
        return Int(days)
    }

    static func format(_ time: UnsafePointer<ASN1_TIME>) -> String {
        MemoryBIO.string { _ = ASN1_TIME_print($0, time) }
    }
}
