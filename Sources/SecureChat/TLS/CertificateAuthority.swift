internal import COpenSSL

/// The development CA while certificates are being issued: its certificate and key, owned.
final class CertificateAuthority {
    /// `X509 *`, owned.
    let certificate: OpaquePointer
    /// `EVP_PKEY *`, owned.
    let key: OpaquePointer

    private init(certificate: OpaquePointer, key: OpaquePointer) {
        self.certificate = certificate
        self.key = key
    }

    deinit {
        X509_free(self.certificate)
        EVP_PKEY_free(self.key)
    }

    /// Reuses `ca.crt` + `ca.key` if both exist (so clients that already trust it keep working), else
    /// creates a new CA.
    static func loadOrCreate(paths: DevelopmentCertificates.Paths) throws -> CertificateAuthority {
        guard FileSystem.exists(paths.caCertificate), FileSystem.exists(paths.caKey) else {
            return try self.create(paths: paths)
        }
        let key = try PEMFile.readOwnedPrivateKey(path: paths.caKey)
        let certificate: OpaquePointer
        do {
            certificate = try PEMFile.readCertificate(path: paths.caCertificate)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        let ca = CertificateAuthority(certificate: certificate, key: key)
        OpenSSLErrorQueue.clear()
        guard X509_check_private_key(certificate, key) == 1 else {
            throw TLSError.privateKeyMismatch(path: paths.caKey, reason: OpenSSLErrorQueue.drain())
        }
        try CertificateValidity.check(certificate, path: paths.caCertificate)
        return ca
    }

    /// A new self-signed CA, written to `ca.key` (0600) and `ca.crt`.
    static func create(paths: DevelopmentCertificates.Paths) throws -> CertificateAuthority {
        let key = try X509Builder.makeP256Key()
        let certificate: OpaquePointer
        do {
            certificate = try X509Builder.makeCertificate(
                commonName: "SecureChat development CA",
                key: key,
                issuer: nil,
                validity: .days(DevelopmentCertificates.caValidityDays),
                extensions: [
                    // pathlen:0 and the name constraints: a stolen development CA key signs for nothing but
                    // this machine's loopback names, and no intermediate CA that could.
                    (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                    (NID_key_usage, "critical,keyCertSign,cRLSign"),
                    (NID_name_constraints, DevelopmentCertificates.caNameConstraints),
                    (NID_subject_key_identifier, "hash"),
                ]
            )
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        let ca = CertificateAuthority(certificate: certificate, key: key)
        try TLSError.reportingFileErrors {
            try FileSystem.writeFile(try PEMFile.pem(privateKey: key), to: paths.caKey, mode: 0o600)
            try FileSystem.writeFile(try PEMFile.pem(certificate: certificate), to: paths.caCertificate, mode: 0o644)
        }
        return ca
    }

    /// Makes a key and a certificate signed by this CA, writes the key (0600) and the certificate
    /// followed by the CA's (the chain a peer needs), and returns the certificate (owned `X509 *`).
    func issue(
        commonName: String,
        keyPath: String,
        certificatePath: String,
        validity: X509Builder.Validity,
        extensions: [(nid: CInt, value: String)]
    ) throws -> OpaquePointer {
        let key = try X509Builder.makeP256Key()
        defer { EVP_PKEY_free(key) }
        let certificate = try X509Builder.makeCertificate(
            commonName: commonName,
            key: key,
            issuer: X509Builder.Issuer(certificate: self.certificate, key: self.key),
            validity: validity,
            extensions: extensions + [
                (NID_subject_key_identifier, "hash"), (NID_authority_key_identifier, "keyid:always"),
            ]
        )
        do {
            try TLSError.reportingFileErrors {
                try FileSystem.writeFile(try PEMFile.pem(privateKey: key), to: keyPath, mode: 0o600)
                let chain = try PEMFile.pem(certificate: certificate) + PEMFile.pem(certificate: self.certificate)
                try FileSystem.writeFile(chain, to: certificatePath, mode: 0o644)
            }
        } catch {
            X509_free(certificate)
            throw error
        }
        return certificate
    }
}
