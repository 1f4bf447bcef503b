internal import COpenSSL

/// A development CA and certificates signed by it, made with OpenSSL's API, so `securechatd` can offer
/// TLS out of the box and tests can make their own PKI.
///
/// Everything is ECDSA P-256 with SHA-256 signatures. The CA (`ca.crt`, `ca.key`) is valid ~10 years,
/// has `basicConstraints=critical,CA:TRUE` and `keyUsage=critical,keyCertSign,cRLSign`. The server
/// certificate is valid 825 days (the longest Apple platforms accept) for `DNS:localhost`,
/// `IP:127.0.0.1` and `IP:::1`, with `extendedKeyUsage=serverAuth`; `server.crt` holds it followed by the
/// CA certificate. Serial numbers are random. Key files are created with mode 0600.
public enum DevelopmentCertificates {
    static let caValidityDays = 3650
    static let leafValidityDays = 825

    /// Uses `directory/server.crt` and `server.key` if both exist; otherwise creates them, signed by
    /// `directory/ca.crt` + `ca.key` (reused if both exist, else created). Creates `directory` if needed.
    ///
    /// - Throws: ``TLSError`` if only one of `server.crt`/`server.key` exists (nothing is overwritten), or
    ///   if generating or writing fails.
    public static func ensure(directory: String) throws -> DevelopmentCertificateSet {
        let paths = Paths(directory: directory)
        switch (FileSystem.exists(paths.serverCertificate), FileSystem.exists(paths.serverKey)) {
        case (true, true):
            return DevelopmentCertificateSet(
                caCertificatePath: paths.caCertificate,
                certificatePath: paths.serverCertificate,
                privateKeyPath: paths.serverKey,
                caFingerprintSHA256: FileSystem.exists(paths.caCertificate)
                    ? try self.fingerprintSHA256(ofCertificateAt: paths.caCertificate) : nil,
                created: false,
                clientCertificates: []
            )
        case (true, false), (false, true):
            let missing = FileSystem.exists(paths.serverKey) ? paths.serverCertificate : paths.serverKey
            throw TLSError.fileUnreadable(
                path: missing,
                reason: "server.crt and server.key must both exist, or both be absent to create new ones"
            )
        case (false, false):
            try FileSystem.createDirectory(directory)
            let ca = try CertificateAuthority.loadOrCreate(paths: paths)
            try self.writeServerCertificate(ca: ca, paths: paths, validity: .days(self.leafValidityDays))
            return try self.set(paths: paths, ca: ca, clients: [])
        }
    }

    /// Creates, overwriting whatever is there, a new CA (`ca.crt`, `ca.key`), a server certificate
    /// (`server.crt`, `server.key`) and, for each name, a client certificate (`<name>.crt`, `<name>.key`,
    /// CN = name, `extendedKeyUsage=clientAuth`) in `directory`. Meant for tests that need their own PKI:
    ///
    /// ```swift
    /// let certs = try DevelopmentCertificates.generate(directory: tmp, clientCertificateNames: ["alice"])
    /// let server = try TLSContext.server(certificateChainPath: certs.certificatePath,
    ///                                    privateKeyPath: certs.privateKeyPath,
    ///                                    clientCAPath: certs.caCertificatePath)
    /// let client = try TLSContext.client(trustRootsPath: certs.caCertificatePath,
    ///                                    certificateChainPath: certs.clientCertificates[0].certificatePath,
    ///                                    privateKeyPath: certs.clientCertificates[0].privateKeyPath)
    /// ```
    ///
    /// - Parameter clientCertificateNames: letters, digits, `-`, `_` and `.` only (they become file names).
    public static func generate(
        directory: String,
        clientCertificateNames: [String] = []
    ) throws -> DevelopmentCertificateSet {
        try self.generate(
            directory: directory,
            clientCertificateNames: clientCertificateNames,
            serverValidity: .days(self.leafValidityDays)
        )
    }

    /// As the public `generate`, with a chosen server validity (tests use it for expired certificates).
    static func generate(
        directory: String,
        clientCertificateNames: [String],
        serverValidity: X509Builder.Validity
    ) throws -> DevelopmentCertificateSet {
        for name in clientCertificateNames where !self.isSafeFileStem(name) {
            throw TLSError.certificateGenerationFailed(reason: "unusable client certificate name '\(name)'")
        }
        let paths = Paths(directory: directory)
        try FileSystem.createDirectory(directory)
        let ca = try CertificateAuthority.create(paths: paths)
        try self.writeServerCertificate(ca: ca, paths: paths, validity: serverValidity)
        var clients: [DevelopmentClientCertificate] = []
        for name in clientCertificateNames {
            clients.append(try self.writeClientCertificate(name: name, ca: ca, directory: directory))
        }
        return try self.set(paths: paths, ca: ca, clients: clients)
    }

    /// SHA-256 of the first certificate in a PEM file, as `openssl x509 -fingerprint -sha256` prints it:
    /// uppercase hex pairs separated by colons.
    public static func fingerprintSHA256(ofCertificateAt path: String) throws -> String {
        CertificateDigest.colonSeparatedUppercaseHex(try self.digest(ofCertificateAt: path))
    }

    /// A fingerprint in the form ``TLSHandshakeCompleted/peerCertificateFingerprint`` uses (lowercase hex,
    /// no colons or spaces), whichever way it was written, e.g. pasted from `openssl x509 -fingerprint`
    /// with or without its `sha256 Fingerprint=` prefix.
    public static func normalizedFingerprint(_ fingerprint: String) -> String {
        let value = fingerprint.split(separator: "=").last ?? Substring(fingerprint)
        return String(value.lowercased().filter { $0.isHexDigit })
    }

    // MARK: Internals

    struct Paths {
        let directory: String
        var caCertificate: String { FileSystem.join(self.directory, "ca.crt") }
        var caKey: String { FileSystem.join(self.directory, "ca.key") }
        var serverCertificate: String { FileSystem.join(self.directory, "server.crt") }
        var serverKey: String { FileSystem.join(self.directory, "server.key") }
    }

    private static func digest(ofCertificateAt path: String) throws -> [UInt8] {
        let certificate = try PEMFile.readCertificate(path: path)
        defer { X509_free(certificate) }
        guard let digest = CertificateDigest.sha256(certificate) else {
            throw TLSError.invalidCertificate(path: path, reason: "cannot compute its SHA-256 digest")
        }
        return digest
    }

    private static func set(
        paths: Paths,
        ca: CertificateAuthority,
        clients: [DevelopmentClientCertificate]
    ) throws -> DevelopmentCertificateSet {
        guard let digest = CertificateDigest.sha256(ca.certificate) else {
            throw TLSError.certificateGenerationFailed(path: paths.caCertificate, reason: "no SHA-256 digest")
        }
        return DevelopmentCertificateSet(
            caCertificatePath: paths.caCertificate,
            certificatePath: paths.serverCertificate,
            privateKeyPath: paths.serverKey,
            caFingerprintSHA256: CertificateDigest.colonSeparatedUppercaseHex(digest),
            created: true,
            clientCertificates: clients
        )
    }

    private static func writeServerCertificate(
        ca: CertificateAuthority,
        paths: Paths,
        validity: X509Builder.Validity
    ) throws {
        let certificate = try ca.issue(
            commonName: "localhost",
            keyPath: paths.serverKey,
            certificatePath: paths.serverCertificate,
            validity: validity,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth"),
                (NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"),
            ]
        )
        X509_free(certificate)
    }

    private static func writeClientCertificate(
        name: String,
        ca: CertificateAuthority,
        directory: String
    ) throws -> DevelopmentClientCertificate {
        let certificatePath = FileSystem.join(directory, name + ".crt")
        let keyPath = FileSystem.join(directory, name + ".key")
        let certificate = try ca.issue(
            commonName: name,
            keyPath: keyPath,
            certificatePath: certificatePath,
            validity: .days(self.leafValidityDays),
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "clientAuth"),
            ]
        )
        defer { X509_free(certificate) }
        guard let digest = CertificateDigest.sha256(certificate) else {
            throw TLSError.certificateGenerationFailed(path: certificatePath, reason: "no SHA-256 digest")
        }
        return DevelopmentClientCertificate(
            name: name,
            certificatePath: certificatePath,
            privateKeyPath: keyPath,
            fingerprintSHA256: CertificateDigest.lowercaseHex(digest)
        )
    }

    private static func isSafeFileStem(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        return !name.isEmpty && !name.hasPrefix(".") && name.allSatisfy { allowed.contains($0) }
    }
}
