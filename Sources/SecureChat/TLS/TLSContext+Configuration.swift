internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension TLSContext {
    /// Mozilla "intermediate" (v5.7) TLS 1.2 suites, restricted to ECDHE as DESIGN.md asks: forward
    /// secrecy and AEAD only. TLS 1.3 suites are listed explicitly so a system-wide config cannot add
    /// others.
    static let tls12CipherList = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
    static let tls13CipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    static let groups = "X25519:P-256:P-384"
    /// Binds server-side sessions to this application. OpenSSL refuses to resume a session without it
    /// once client certificates are requested ("session id context uninitialized").
    static let sessionIDContext = Array("SecureChat".utf8)
    /// Intermediate CAs allowed between a client certificate and a trusted root (`SSL_CTX_set_verify_depth`).
    static let maximumClientChainDepth: CInt = 4
    /// The longest certificate message a client may send (`SSL_CTX_set_max_cert_list`; OpenSSL's default is
    /// 100 KiB). An honest chain (leaf, an intermediate or two) is 2-8 KiB; OpenSSL keeps the whole chain a
    /// client sent in its cached session, so a chain padded with junk would cost that much per session.
    static let maximumCertificateListBytes = 16 * 1024
    /// Sessions the server cache holds at most, whatever their size.
    static let maximumCachedSessions = 20_000
    /// The bytes the session cache may take at most: its size in sessions is this divided by the most one
    /// session can hold (see ``sessionCacheSize(clientCertificates:)``).
    static let sessionCacheBytes = 128 << 20
    /// Certificates a client may send: its leaf, `maximumClientChainDepth` intermediates and a root. More are
    /// refused before verification: OpenSSL keeps every certificate sent in the session, however useless.
    static let maximumClientChainCertificates = Int(maximumClientChainDepth) + 2
    /// Upper estimates for the byte bound of the session cache: one session without a client certificate (the
    /// `SSL_SESSION`, its secrets, its hash-table entry), the fixed heap cost of one parsed certificate, and
    /// the heap bytes per DER byte of a parsed certificate (OpenSSL keeps the encoding and the decoded fields).
    static let sessionOverheadBytes = 2048
    static let parsedCertificateOverheadBytes = 4096
    static let parsedCertificateFactor = 2

    /// How many sessions fit in ``sessionCacheBytes`` when each holds the largest client chain allowed (with
    /// client certificates), or none; never more than ``maximumCachedSessions``.
    static func sessionCacheSize(clientCertificates: Bool) -> Int {
        let chain =
            clientCertificates
            ? maximumCertificateListBytes * parsedCertificateFactor
                + maximumClientChainCertificates * parsedCertificateOverheadBytes
            : 0
        return min(maximumCachedSessions, sessionCacheBytes / (sessionOverheadBytes + chain))
    }

    /// Whether the client sent more than ``maximumClientChainCertificates`` certificates; if so, the store's
    /// error says so. Both verification callbacks check this first.
    private static func refusesLongChain(_ storeContext: OpaquePointer) -> Bool {
        guard let sent = X509_STORE_CTX_get0_untrusted(storeContext),
            Int(sc_sk_X509_num(sent)) > TLSContext.maximumClientChainCertificates
        else { return false }
        X509_STORE_CTX_set_error(storeContext, X509_V_ERR_CERT_CHAIN_TOO_LONG)
        return true
    }

    /// Refuses a client chain of more than ``maximumClientChainCertificates`` certificates, then verifies as
    /// OpenSSL would. (The verify depth only limits the path that is built, not what the client sent.)
    private static let boundedChainVerification: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> CInt = {
        storeContext, _ in
        guard let storeContext else { return 0 }
        if refusesLongChain(storeContext) { return 0 }
        return X509_verify_cert(storeContext)
    }

    /// `--client-certs any`: any certificate is accepted, self-signed ones too, after the same bound on the chain
    /// a client may send. The handshake itself proves that the client holds the certificate's private key
    /// (its CertificateVerify signature), which is all that binding a certificate to an account needs: the
    /// account, not a CA, says which certificate is whose.
    private static let anyCertificate: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> CInt = {
        storeContext, _ in
        guard let storeContext else { return 0 }
        if refusesLongChain(storeContext) { return 0 }
        return 1
    }

    /// Asks every client for a certificate and accepts whichever it presents (see ``anyCertificate``); a
    /// client without one still gets in.
    func requestAnyClientCertificate() {
        let ctx = self.sslContext
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        _ = sc_SSL_CTX_set_max_cert_list(ctx, CLong(Self.maximumCertificateListBytes))
        SSL_CTX_set_cert_verify_callback(ctx, Self.anyCertificate, nil)
        _ = sc_SSL_CTX_sess_set_cache_size(ctx, CLong(Self.sessionCacheSize(clientCertificates: true)))
    }

    func applyProtocolPolicy(minimumVersion: TLSProtocolVersion, maximumVersion: TLSProtocolVersion) throws {
        let ctx = self.sslContext
        OpenSSLErrorQueue.clear()
        guard sc_SSL_CTX_set_min_proto_version(ctx, minimumVersion.openSSLValue) == 1,
            sc_SSL_CTX_set_max_proto_version(ctx, maximumVersion.openSSLValue) == 1
        else {
            throw TLSError.configurationFailed("protocol versions: " + OpenSSLErrorQueue.drain())
        }
        guard SSL_CTX_set_cipher_list(ctx, Self.tls12CipherList) == 1 else {
            throw TLSError.configurationFailed("TLS 1.2 cipher list: " + OpenSSLErrorQueue.drain())
        }
        guard SSL_CTX_set_ciphersuites(ctx, Self.tls13CipherSuites) == 1 else {
            throw TLSError.configurationFailed("TLS 1.3 cipher suites: " + OpenSSLErrorQueue.drain())
        }
        guard sc_SSL_CTX_set1_groups_list(ctx, Self.groups) == 1 else {
            throw TLSError.configurationFailed("groups: " + OpenSSLErrorQueue.drain())
        }
        // Compression invites CRIME; renegotiation is a DoS lever and pointless for a chat line protocol.
        _ = sc_SSL_CTX_set_options(ctx, sc_SSL_OP_NO_COMPRESSION() | sc_SSL_OP_NO_RENEGOTIATION())
        // Mozilla "intermediate" leaves the choice to the client (which knows whether it has AES hardware),
        // since every suite offered is strong.
        _ = sc_SSL_CTX_clear_options(ctx, sc_SSL_OP_CIPHER_SERVER_PREFERENCE())
        // Frees OpenSSL's per-connection read/write buffers (~34 KiB) whenever they are empty, so an idle
        // chat connection costs little. Partial writes are not enabled: memory BIOs always accept a whole
        // SSL_write, and the handler loops anyway.
        _ = sc_SSL_CTX_set_mode(ctx, sc_SSL_MODE_RELEASE_BUFFERS())
    }

    func useCertificateChain(path chainPath: String, privateKeyPath: String) throws {
        let ctx = self.sslContext
        try Self.checkReadable(chainPath)
        try Self.checkReadable(privateKeyPath)

        OpenSSLErrorQueue.clear()
        guard SSL_CTX_use_certificate_chain_file(ctx, chainPath) == 1 else {
            throw TLSError.invalidCertificate(path: chainPath, reason: OpenSSLErrorQueue.drain())
        }
        guard let leaf = SSL_CTX_get0_certificate(ctx) else {
            throw TLSError.invalidCertificate(path: chainPath, reason: "no certificate in file")
        }
        try CertificateValidity.check(leaf, path: chainPath)

        let key = try PEMFile.readPrivateKey(path: privateKeyPath)
        defer { EVP_PKEY_free(key) }
        OpenSSLErrorQueue.clear()
        guard X509_check_private_key(leaf, key) == 1 else {
            throw TLSError.privateKeyMismatch(
                path: privateKeyPath,
                reason: "the key does not belong to the first certificate of \(chainPath): "
                    + OpenSSLErrorQueue.drain()
            )
        }
        OpenSSLErrorQueue.clear()
        guard SSL_CTX_use_PrivateKey(ctx, key) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError.privateKeyMismatch(path: privateKeyPath, reason: OpenSSLErrorQueue.drain())
        }
    }

    func enableServerSessionCache() throws {
        let ctx = self.sslContext
        // Resumption is served from this cache only. Stateless tickets would be encrypted with a per-SSL_CTX
        // key that OpenSSL never rotates (until SIGHUP makes a new context), and a TLS 1.2 ticket carries the
        // master secret: whoever steals that key decrypts every recorded TLS 1.2 session. With NO_TICKET,
        // TLS 1.2 gets no ticket and resumes by session ID; TLS 1.3 gets a stateful ticket that only names a
        // cache entry (its resumption secret never leaves the server, and its PSK handshake still uses
        // (EC)DHE). A certificate reload (a new context, an empty cache) falls back to full handshakes.
        // NO_AUTO_CLEAR: by default OpenSSL walks the whole cache for expired sessions every 255 handshakes,
        // an O(cache) pause on the event loop; a full cache evicts its oldest entry instead, which keeps it
        // bounded just as well.
        _ = sc_SSL_CTX_set_options(ctx, sc_SSL_OP_NO_TICKET())
        _ = sc_SSL_CTX_set_session_cache_mode(ctx, CLong(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR))
        _ = sc_SSL_CTX_sess_set_cache_size(ctx, CLong(Self.sessionCacheSize(clientCertificates: false)))
        // One TLS 1.3 ticket per handshake instead of OpenSSL's two: a chat client reconnects one at a time,
        // and each ticket costs an encryption and a record.
        _ = SSL_CTX_set_num_tickets(ctx, 1)
        OpenSSLErrorQueue.clear()
        let rc = Self.sessionIDContext.withUnsafeBufferPointer {
            SSL_CTX_set_session_id_context(ctx, $0.baseAddress, CUnsignedInt($0.count))
        }
        guard rc == 1 else {
            throw TLSError.configurationFailed("session id context: " + OpenSSLErrorQueue.drain())
        }
    }

    func requestClientCertificates(caPath: String) throws {
        let ctx = self.sslContext
        try Self.checkReadable(caPath)
        OpenSSLErrorQueue.clear()
        guard SSL_CTX_load_verify_locations(ctx, caPath, nil) == 1 else {
            throw TLSError.invalidCertificate(path: caPath, reason: OpenSSLErrorQueue.drain())
        }
        // The CA names sent in the CertificateRequest let clients pick the right certificate.
        OpenSSLErrorQueue.clear()
        guard let names = SSL_load_client_CA_file(caPath) else {
            throw TLSError.invalidCertificate(path: caPath, reason: OpenSSLErrorQueue.drain())
        }
        SSL_CTX_set_client_CA_list(ctx, names)
        // Without FAIL_IF_NO_PEER_CERT: a client without a certificate still gets in (as a plain user);
        // a client presenting a certificate that does not verify is refused.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        // A client chain is leaf, perhaps an intermediate or two, root: a longer one is no honest client's,
        // and each extra certificate is a signature verified before anyone has logged in.
        SSL_CTX_set_verify_depth(ctx, Self.maximumClientChainDepth)
        // Sessions now carry the client's chain: bound the message and the number of certificates, and so the
        // cache by bytes through its count.
        _ = sc_SSL_CTX_set_max_cert_list(ctx, CLong(Self.maximumCertificateListBytes))
        SSL_CTX_set_cert_verify_callback(ctx, Self.boundedChainVerification, nil)
        _ = sc_SSL_CTX_sess_set_cache_size(ctx, CLong(Self.sessionCacheSize(clientCertificates: true)))
    }

    func configureClientTrust(trustRootsPath: String?, verifyPeer: Bool) throws {
        let ctx = self.sslContext
        OpenSSLErrorQueue.clear()
        if let trustRootsPath {
            try Self.checkReadable(trustRootsPath)
            guard SSL_CTX_load_verify_locations(ctx, trustRootsPath, nil) == 1 else {
                throw TLSError.invalidCertificate(path: trustRootsPath, reason: OpenSSLErrorQueue.drain())
            }
        } else if SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw TLSError.configurationFailed("system trust store: " + OpenSSLErrorQueue.drain())
        }
        SSL_CTX_set_verify(ctx, verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
    }

    /// OpenSSL's own message for a missing file is `system library::No such file or directory`; saying
    /// it in plain words, with the path, is kinder to whoever reads the log.
    static func checkReadable(_ path: String) throws {
        guard access(path, R_OK) == 0 else {
            let reason = String(cString: strerror(errno))
            throw TLSError.fileUnreadable(path: path, reason: reason)
        }
    }
}
