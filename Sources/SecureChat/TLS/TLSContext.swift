internal import COpenSSL

/// A TLS configuration (OpenSSL `SSL_CTX`): protocol versions, ciphers, certificate and key, trust.
///
/// Build one with ``server(certificateChainPath:privateKeyPath:clientCAPath:)`` or
/// ``client(trustRootsPath:verifyPeer:certificateChainPath:privateKeyPath:minimumVersion:maximumVersion:)``
/// and share it between all connections; each ``OpenSSLHandler`` makes its own `SSL` from it.
///
/// `@unchecked Sendable`: the `SSL_CTX` is only mutated inside the factory functions, before the
/// context is returned; afterwards it is only read, and OpenSSL documents `SSL_new` on a shared,
/// fully configured `SSL_CTX` as thread-safe (its reference count and session cache are locked
/// internally).
public final class TLSContext: @unchecked Sendable {
    enum Role {
        case server
        case client
    }

    /// `SSL_CTX *`, owned.
    let sslContext: OpaquePointer
    let role: Role
    /// Kept alive here because the `SSL_CTX`'s certificate callback points at it without retaining it.
    private let handshakeBudget: TLSHandshakeBudget?

    private init(role: Role, handshakeBudget: TLSHandshakeBudget? = nil) throws {
        OpenSSLErrorQueue.clear()
        let method = role == .server ? TLS_server_method() : TLS_client_method()
        guard let sslContext = SSL_CTX_new(method) else {
            throw TLSError.configurationFailed("SSL_CTX_new: " + OpenSSLErrorQueue.drain())
        }
        self.sslContext = sslContext
        self.role = role
        self.handshakeBudget = handshakeBudget
        handshakeBudget?.install(on: sslContext)
    }

    deinit {
        SSL_CTX_free(self.sslContext)
    }

    /// A context for the server side of connections.
    ///
    /// - Parameters:
    ///   - certificateChainPath: PEM file, leaf certificate first, then intermediates.
    ///   - privateKeyPath: PEM file with the leaf's private key (unencrypted).
    ///   - clientCAPath: PEM file of CA certificates. When given, clients are asked for a certificate and
    ///     one that is presented must verify against these CAs; a client without a certificate still
    ///     connects (``TLSHandshakeCompleted/peerCertificateFingerprint`` is then `nil`).
    ///   - anyClientCertificate: without `clientCAPath`, ask every client for a certificate and accept any,
    ///     self-signed included (`--client-certs any`): the handshake proves the client holds its key.
    ///   - handshakeBudget: full (not resumed) handshakes beyond this budget fail; shared by every context
    ///     the server builds, so a certificate reload does not refill it.
    /// - Throws: ``TLSError`` naming the file and OpenSSL's reason when a file is missing, unreadable,
    ///   not PEM, the key does not match, or the leaf certificate is expired or not yet valid.
    public static func server(
        certificateChainPath: String,
        privateKeyPath: String,
        clientCAPath: String? = nil,
        anyClientCertificate: Bool = false,
        handshakeBudget: TLSHandshakeBudget? = nil
    ) throws -> TLSContext {
        let context = try TLSContext(role: .server, handshakeBudget: handshakeBudget)
        try context.applyProtocolPolicy(minimumVersion: .tlsv1_2, maximumVersion: .tlsv1_3)
        try context.useCertificateChain(path: certificateChainPath, privateKeyPath: privateKeyPath)
        try context.enableServerSessionCache()
        context.selectHTTPWhenOffered()
        if let clientCAPath {
            try context.requestClientCertificates(caPath: clientCAPath)
        } else if anyClientCertificate {
            context.requestAnyClientCertificate()
        }
        return context
    }

    /// A context for the client side of connections (tests, benchmark clients).
    ///
    /// - Parameters:
    ///   - trustRootsPath: PEM file of CA certificates to trust; `nil` uses the system's trust store.
    ///   - verifyPeer: verify the server's certificate (and, with a `serverHostname`, its name).
    ///   - certificateChainPath, privateKeyPath: a client certificate to present; give both or neither.
    ///   - minimumVersion, maximumVersion: the TLS versions to offer.
    public static func client(
        trustRootsPath: String?,
        verifyPeer: Bool = true,
        certificateChainPath: String? = nil,
        privateKeyPath: String? = nil,
        minimumVersion: TLSProtocolVersion = .tlsv1_2,
        maximumVersion: TLSProtocolVersion = .tlsv1_3
    ) throws -> TLSContext {
        let context = try TLSContext(role: .client)
        try context.applyProtocolPolicy(minimumVersion: minimumVersion, maximumVersion: maximumVersion)
        try context.configureClientTrust(trustRootsPath: trustRootsPath, verifyPeer: verifyPeer)
        switch (certificateChainPath, privateKeyPath) {
        case (let chain?, let key?):
            try context.useCertificateChain(path: chain, privateKeyPath: key)
        case (nil, nil):
            break
        default:
            throw TLSError.configurationFailed("a client certificate needs both a certificate chain and a key")
        }
        return context
    }

    /// The most sessions the server's cache keeps (`SSL_CTX_sess_get_cache_size`).
    var sessionCacheSize: Int {
        Int(sc_SSL_CTX_sess_get_cache_size(self.sslContext))
    }

    /// Sessions in the server's cache now.
    var cachedSessions: Int {
        Int(sc_SSL_CTX_sess_number(self.sslContext))
    }

    /// The longest certificate message accepted from the peer (`SSL_CTX_get_max_cert_list`).
    var maximumCertificateListBytes: Int {
        Int(sc_SSL_CTX_get_max_cert_list(self.sslContext))
    }

    /// A client that offers nothing newer than TLS 1.1, to prove servers refuse it. Security level 0 is
    /// needed, or OpenSSL 3 refuses to even send such a ClientHello.
    static func legacyClientOfferingOnlyTLS11(trustRootsPath: String?) throws -> TLSContext {
        let context = try TLSContext(role: .client)
        let ctx = context.sslContext
        SSL_CTX_set_security_level(ctx, 0)
        guard sc_SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION) == 1,
            sc_SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION) == 1,
            SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") == 1
        else {
            throw TLSError.configurationFailed("TLS 1.1 client: " + OpenSSLErrorQueue.drain())
        }
        try context.configureClientTrust(trustRootsPath: trustRootsPath, verifyPeer: true)
        return context
    }
}
