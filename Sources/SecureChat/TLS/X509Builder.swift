internal import COpenSSL

/// Makes ECDSA P-256 keys and X.509 v3 certificates with OpenSSL's API (no `openssl` process).
/// All pointers returned are owned by the caller: `EVP_PKEY_free` / `X509_free`.
enum X509Builder {
    /// An issuer: its certificate (`X509 *`) and private key (`EVP_PKEY *`), both borrowed.
    struct Issuer {
        let certificate: OpaquePointer
        let key: OpaquePointer
    }

    /// The validity window, in seconds relative to now.
    struct Validity {
        let notBeforeOffset: Int
        let notAfterOffset: Int

        /// A lifetime of exactly `days` (what CA/browser limits count), starting an hour ago so a client
        /// whose clock is slightly behind still accepts a fresh certificate.
        static func days(_ days: Int) -> Validity {
            Validity(notBeforeOffset: -3600, notAfterOffset: days * 86_400 - 3600)
        }
    }

    static func makeP256Key() throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let key = sc_EVP_EC_gen_P256() else {
            throw TLSError.certificateGenerationFailed(reason: "EC P-256 key: " + OpenSSLErrorQueue.drain())
        }
        return key
    }

    /// - Parameters:
    ///   - extensions: `(NID, value)` in `openssl.cnf` syntax, e.g. `(NID_key_usage, "critical,keyCertSign")`.
    ///   - issuer: `nil` for a self-signed certificate (signed with `key`).
    static func makeCertificate(
        commonName: String,
        key: OpaquePointer,
        issuer: Issuer?,
        validity: Validity,
        extensions: [(nid: CInt, value: String)]
    ) throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let certificate = X509_new() else {
            throw self.failure("X509_new")
        }
        do {
            try self.fill(
                certificate,
                commonName: commonName,
                key: key,
                issuer: issuer,
                validity: validity,
                extensions: extensions
            )
            return certificate
        } catch {
            X509_free(certificate)
            throw error
        }
    }

    private static func fill(
        _ certificate: OpaquePointer,
        commonName: String,
        key: OpaquePointer,
        issuer: Issuer?,
        validity: Validity,
        extensions: [(nid: CInt, value: String)]
    ) throws {
        guard X509_set_version(certificate, CLong(X509_VERSION_3)) == 1 else {
            throw self.failure("version")
        }
        try self.setRandomSerial(certificate)
        guard X509_gmtime_adj(X509_getm_notBefore(certificate), validity.notBeforeOffset) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), validity.notAfterOffset) != nil
        else {
            throw self.failure("validity")
        }
        try self.setSubject(certificate, commonName: commonName)
        let issuerCertificate = issuer?.certificate ?? certificate
        guard X509_set_issuer_name(certificate, X509_get_subject_name(issuerCertificate)) == 1,
            X509_set_pubkey(certificate, key) == 1
        else {
            throw self.failure("issuer or public key")
        }

        var v3Context = X509V3_CTX()
        X509V3_set_ctx(&v3Context, issuerCertificate, certificate, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &v3Context, nid, value) else {
                throw self.failure("extension \(value)")
            }
            let added = X509_add_ext(certificate, ext, -1)
            X509_EXTENSION_free(ext)
            guard added == 1 else {
                throw self.failure("extension \(value)")
            }
        }
        guard X509_sign(certificate, issuer?.key ?? key, EVP_sha256()) > 0 else {
            throw self.failure("signature")
        }
    }

    /// 127 random bits: unique enough that browsers never see two certificates with one issuer+serial,
    /// and positive as RFC 5280 requires.
    private static func setRandomSerial(_ certificate: OpaquePointer) throws {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&bytes, CInt(bytes.count)) == 1 else {
            throw self.failure("random serial")
        }
        bytes[0] = (bytes[0] & 0x7F) | 0x01
        guard let number = BN_bin2bn(bytes, CInt(bytes.count), nil) else {
            throw self.failure("serial")
        }
        defer { BN_free(number) }
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil else {
            throw self.failure("serial")
        }
    }

    private static func setSubject(_ certificate: OpaquePointer, commonName: String) throws {
        guard let name = X509_NAME_new() else {
            throw self.failure("name")
        }
        defer { X509_NAME_free(name) }
        for (field, value) in [("O", "SecureChat development"), ("CN", commonName)] {
            let bytes = Array(value.utf8)
            guard X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC, bytes, CInt(bytes.count), -1, 0) == 1 else {
                throw self.failure("subject \(field)=\(value)")
            }
        }
        guard X509_set_subject_name(certificate, name) == 1 else {
            throw self.failure("subject")
        }
    }

    private static func failure(_ step: String) -> TLSError {
        TLSError.certificateGenerationFailed(reason: step + ": " + OpenSSLErrorQueue.drain())
    }
}
