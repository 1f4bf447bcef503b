import Foundation
import NIOSSL

/// How the database connection uses TLS, decided from the URL's `sslmode` and `sslrootcert` as libpq decides it.
///
/// | `sslmode`     | TLS             | without `sslrootcert` | with `sslrootcert=FILE`  | with `sslrootcert=system` |
/// |---------------|-----------------|-----------------------|--------------------------|---------------------------|
/// | `disable`     | never           | -                     | (file not read)          | refused                   |
/// | `prefer`      | if offered      | no verification       | chain verified           | refused                   |
/// | `require`     | always          | no verification       | chain verified           | refused                   |
/// | `verify-ca`   | always          | refused               | chain verified           | refused                   |
/// | `verify-full` | always          | refused               | chain and host name      | chain and host name       |
///
/// Libpq verifies the chain in `prefer` and `require` whenever a root certificate file exists, and
/// `sslrootcert=system` makes `verify-full` the default and refuses weaker modes. One difference, on purpose: libpq
/// falls back to `~/.postgresql/root.crt` when `sslrootcert` is absent; a daemon's home directory is an accident of
/// how it was started, so the node trusts only what the URL names, and refuses `verify-ca`/`verify-full` without it
/// (as libpq does when that file is missing).
struct ClusterTLSMode: Equatable {
    enum Encryption: Equatable {
        case off
        /// TLS when the server offers it, plaintext when it declines.
        case ifOffered
        case always
    }

    enum Verification: Equatable {
        case none
        /// The server's chain must lead to a trusted root; any host name is accepted (`verify-ca`).
        case chain
        /// The chain, and the certificate must name the host the URL names (`verify-full`).
        case chainAndHostName
    }

    enum TrustRoots: Equatable {
        /// The operating system's store (`sslrootcert=system`).
        case system
        /// The certificates of `sslrootcert=FILE`, read once at start.
        case certificates([NIOSSLCertificate])
    }

    let encryption: Encryption
    let verification: Verification
    let trustRoots: TrustRoots

    /// The largest `sslrootcert` file read: a bundle of every public root is about 250 KiB.
    static let rootCertificateFileLimit = 4 << 20

    static let modes = ["disable", "prefer", "require", "verify-ca", "verify-full"]

    /// Throws a ``ConfigurationError`` naming `--cluster` and the bad value for an unknown `sslmode`, a mode that
    /// `sslrootcert=system` forbids, a verifying mode without `sslrootcert`, or a root file that cannot be read.
    init(sslMode: String?, rootCertificate: String?) throws {
        let isSystem = rootCertificate == "system"
        let mode = sslMode ?? (isSystem ? "verify-full" : "prefer")
        guard Self.modes.contains(mode) else {
            throw ConfigurationError(
                "--cluster URL: sslmode=\(mode) is not one of \(Self.modes.joined(separator: ", "))")
        }
        if isSystem, mode != "verify-full" {
            // Anyone can get a certificate from a public CA for a name they control: only the host name check
            // makes the system store mean anything (libpq refuses the same).
            throw ConfigurationError(
                "--cluster URL: sslrootcert=system needs sslmode=verify-full (got sslmode=\(mode))")
        }
        switch mode {
        case "disable":
            (encryption, verification, trustRoots) = (.off, .none, .system)
            return
        case "prefer": encryption = .ifOffered
        default: encryption = .always
        }
        guard let rootCertificate else {
            guard mode == "prefer" || mode == "require" else {
                throw ConfigurationError(
                    "--cluster URL: sslmode=\(mode) needs sslrootcert= (a PEM file of the CA certificates to trust, "
                        + "or system)")
            }
            (verification, trustRoots) = (.none, .system)
            return
        }
        verification = mode == "verify-full" ? .chainAndHostName : .chain
        trustRoots = isSystem ? .system : .certificates(try Self.readRootCertificates(rootCertificate))
    }

    private static func readRootCertificates(_ path: String) throws -> [NIOSSLCertificate] {
        func refusal(_ reason: String) -> ConfigurationError {
            ConfigurationError("--cluster URL: sslrootcert=\(path) \(reason)")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw refusal("cannot be read") }
        defer { try? handle.close() }
        let bytes: Data
        do {
            bytes = try handle.read(upToCount: rootCertificateFileLimit + 1) ?? Data()
        } catch {
            throw refusal("cannot be read (\(error))")
        }
        guard bytes.count <= rootCertificateFileLimit else {
            throw refusal("is larger than \(rootCertificateFileLimit >> 20) MiB")
        }
        let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(bytes))
        guard let certificates, !certificates.isEmpty else { throw refusal("holds no PEM certificate") }
        return certificates
    }

    /// The swift-nio-ssl settings for this mode; `nil` when TLS is off.
    var tlsConfiguration: TLSConfiguration? {
        guard encryption != .off else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch verification {
        case .none: tls.certificateVerification = .none
        case .chain: tls.certificateVerification = .noHostnameVerification
        case .chainAndHostName: tls.certificateVerification = .fullVerification
        }
        if case .certificates(let certificates) = trustRoots {
            tls.trustRoots = .certificates(certificates)
        }
        return tls
    }
}
