internal import COpenSSL

/// Reading and writing PEM objects through OpenSSL, with errors that name the file.
enum PEMFile {
    /// Returns an owned `EVP_PKEY *` (free with `EVP_PKEY_free`).
    static func readPrivateKey(path: String) throws -> OpaquePointer {
        let bio = try self.openForReading(path)
        defer { BIO_free(bio) }
        OpenSSLErrorQueue.clear()
        // A password callback that refuses: without it OpenSSL would prompt on the server's terminal
        // for an encrypted key and block the process.
        guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
            throw TLSError.invalidPrivateKey(
                path: path,
                reason: "no unencrypted PEM private key: " + OpenSSLErrorQueue.drain()
            )
        }
        return key
    }

    /// The largest private key file read: a P-256 or RSA-8192 PEM key is a few KiB.
    static let maximumKeyFileBytes = 64 * 1024

    /// As ``readPrivateKey(path:)``, for a key this server made and keeps (development `ca.key` and
    /// `server.key`): opened without following a link, and refused unless it belongs to the server's user
    /// and no group or other permission bit is set (``FileSystem/readFile(_:maximumBytes:ownerOnly:)``).
    static func readOwnedPrivateKey(path: String) throws -> OpaquePointer {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, maximumBytes: self.maximumKeyFileBytes, ownerOnly: true)
        } catch let error as FileSystem.ReadError {
            throw TLSError.fileUnreadable(path: path, reason: error.reason)
        }
        OpenSSLErrorQueue.clear()
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, CInt(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let key else {
            throw TLSError.invalidPrivateKey(
                path: path,
                reason: "no unencrypted PEM private key: " + OpenSSLErrorQueue.drain()
            )
        }
        return key
    }

    /// Returns the first certificate of the file as an owned `X509 *` (free with `X509_free`).
    static func readCertificate(path: String) throws -> OpaquePointer {
        let bio = try self.openForReading(path)
        defer { BIO_free(bio) }
        OpenSSLErrorQueue.clear()
        guard let certificate = PEM_read_bio_X509(bio, nil, { _, _, _, _ in 0 }, nil) else {
            throw TLSError.invalidCertificate(
                path: path,
                reason: "no PEM certificate: " + OpenSSLErrorQueue.drain()
            )
        }
        return certificate
    }

    /// PEM text of a certificate (`X509 *`, borrowed).
    static func pem(certificate: OpaquePointer) throws -> [UInt8] {
        try self.writeToMemory { PEM_write_bio_X509($0, certificate) }
    }

    /// PKCS#8 PEM text of an unencrypted private key (`EVP_PKEY *`, borrowed).
    static func pem(privateKey: OpaquePointer) throws -> [UInt8] {
        try self.writeToMemory { PEM_write_bio_PrivateKey($0, privateKey, nil, nil, 0, nil, nil) }
    }

    private static func openForReading(_ path: String) throws -> OpaquePointer {
        try TLSContext.checkReadable(path)
        OpenSSLErrorQueue.clear()
        guard let bio = BIO_new_file(path, "r") else {
            throw TLSError.fileUnreadable(path: path, reason: OpenSSLErrorQueue.drain())
        }
        return bio
    }

    private static func writeToMemory(_ body: (OpaquePointer) -> CInt) throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw TLSError.certificateGenerationFailed(reason: "BIO_new: " + OpenSSLErrorQueue.drain())
        }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else {
            throw TLSError.certificateGenerationFailed(reason: "PEM encoding: " + OpenSSLErrorQueue.drain())
        }
        return MemoryBIO.readAll(bio)
    }
}

/// Helpers for `BIO_s_mem` objects.
enum MemoryBIO {
    /// Everything pending in `bio` (borrowed), consumed.
    static func readAll(_ bio: OpaquePointer) -> [UInt8] {
        let pending = Int(sc_BIO_pending(bio))
        guard pending > 0 else {
            return []
        }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, CInt($0.count)) }
        return Array(bytes.prefix(max(0, Int(read))))
    }

    /// Runs `body` with a fresh memory BIO and returns what it wrote, as text.
    static func string(_ body: (OpaquePointer) -> Void) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else {
            return "?"
        }
        defer { BIO_free(bio) }
        body(bio)
        return String(decoding: self.readAll(bio), as: UTF8.self)
    }
}
