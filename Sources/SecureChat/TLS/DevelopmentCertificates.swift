internal import COpenSSL

/// A development CA and certificates signed by it, made with OpenSSL's API, so `securechatd` can offer
/// TLS out of the box and tests can make their own PKI.
///
/// Everything is ECDSA P-256 with SHA-256 signatures. The CA (`ca.crt`, `ca.key`) is valid ~10 years,
/// has `basicConstraints=critical,CA:TRUE,pathlen:0`, `keyUsage=critical,keyCertSign,cRLSign` and name
/// constraints permitting only `DNS:localhost`, `IP:127.0.0.0/8` and `IP:::1/128`, so its key, if stolen,
/// cannot sign for anything else. The server certificate is valid 365 days for `DNS:localhost`,
/// `IP:127.0.0.1` and `IP:::1`, with `extendedKeyUsage=serverAuth`; `server.crt` holds it followed by the
/// CA certificate; ``ensure(directory:)`` renews it, with the same CA, once fewer than 30 days are left.
/// Serial numbers are random. Key files are written atomically with mode 0600, and a symbolic link where
/// a key belongs is refused, never followed.
public enum DevelopmentCertificates {
    static let caValidityDays = 3650
    static let leafValidityDays = 365
    /// ``ensure(directory:)`` replaces a server certificate with fewer days left than this.
    static let renewalDays = 30
    /// In `openssl.cnf` syntax; `certs/generate.sh` writes the same.
    static let caNameConstraints =
        "critical,permitted;DNS:localhost,permitted;IP:127.0.0.0/255.0.0.0,"
        + "permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

    /// Uses `directory/server.crt` and `server.key` if both exist and belong together; otherwise creates
    /// them, signed by `directory/ca.crt` + `ca.key` (reused if both exist, else created). Creates
    /// `directory` if needed. An existing server certificate with fewer than 30 days left is replaced by a
    /// new one from the same CA (when `ca.key` is there), so clients that trust the CA notice nothing.
    ///
    /// - Throws: ``TLSError`` naming the file and the reason if only one of `server.crt`/`server.key` exists
    ///   (nothing is overwritten), if `server.key` or `ca.key` is a symbolic link, belongs to another user or
    ///   has group or other permission bits, if an existing key or
    ///   certificate is unreadable, truncated or does not match, or if generating or writing fails.
    public static func ensure(directory: String) throws -> DevelopmentCertificateSet {
        let paths = Paths(directory: directory)
        try TLSError.reportingFileErrors {
            try FileSystem.refuseSymbolicLink(paths.serverKey)
            try FileSystem.refuseSymbolicLink(paths.caKey)
        }
        switch (FileSystem.exists(paths.serverCertificate), FileSystem.exists(paths.serverKey)) {
        case (true, true):
            let daysLeft = try self.checkServerPair(paths: paths)
            if daysLeft < self.renewalDays, FileSystem.exists(paths.caCertificate), FileSystem.exists(paths.caKey) {
                let ca = try CertificateAuthority.loadOrCreate(paths: paths)
                try self.writeServerCertificate(ca: ca, paths: paths, validity: .days(self.leafValidityDays))
                var renewed = try self.set(paths: paths, ca: ca, clients: [])
                renewed.renewed = true
                return renewed
            }
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
            try TLSError.reportingFileErrors { try FileSystem.createDirectory(directory) }
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
        try TLSError.reportingFileErrors {
            try FileSystem.refuseSymbolicLink(paths.serverKey)
            try FileSystem.refuseSymbolicLink(paths.caKey)
            try FileSystem.createDirectory(directory)
        }
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

    /// Reads the existing server key and certificate and checks they belong together, so a truncated or
    /// foreign file stops the server here with its path and OpenSSL's reason. Returns the days left.
    private static func checkServerPair(paths: Paths) throws -> Int {
        let certificate = try PEMFile.readCertificate(path: paths.serverCertificate)
        defer { X509_free(certificate) }
        let key = try PEMFile.readOwnedPrivateKey(path: paths.serverKey)
        defer { EVP_PKEY_free(key) }
        OpenSSLErrorQueue.clear()
        guard X509_check_private_key(certificate, key) == 1 else {
            throw TLSError.privateKeyMismatch(
                path: paths.serverKey,
                reason: "the key does not belong to \(paths.serverCertificate): " + OpenSSLErrorQueue.drain()
            )
        }
        return CertificateValidity.daysLeft(certificate)
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
