internal import COpenSSL
import NIOCore

/// The outcome of one non-blocking OpenSSL call.
///
/// `WANT_READ`/`WANT_WRITE` are not errors for us, just "feed me more bytes", hence `.incomplete`.
/// A received close_notify (`SSL_ERROR_ZERO_RETURN`) is an orderly end, not a failure, hence its own case.
enum SSLOperationResult<Value> {
    case incomplete
    case complete(Value)
    case closedByPeer
    case failed(TLSError)
}

/// One TLS connection: an OpenSSL `SSL *` reading and writing ciphertext through a ``ByteBufferBIO``.
///
/// The BIO takes any amount of ciphertext in and out, so `SSL_write` of any size completes in one call and
/// feeding a whole network read never has to be split and retried.
///
/// Every `SSL_*` I/O call is preceded by ``OpenSSLErrorQueue/clear()``: the error queue is per thread and shared by
/// all connections of an event loop. This type knows nothing about channels; ``OpenSSLHandler`` drives it.
///
/// OpenSSL's callbacks (the BIO's and the message callback) reach this object through unretained pointers: it owns
/// the `SSL`, which owns the BIO, and frees it in `deinit`, and OpenSSL calls back only from inside an `SSL_*` call
/// made here. So one object holds all that a connection's TLS keeps besides OpenSSL's own state.
final class SSLConnection {
    let context: TLSContext
    /// `SSL *`, owned; it owns the BIO.
    private let ssl: OpaquePointer
    /// Ciphertext in and out; written by the BIO's callbacks (``ByteBufferBIO``), which is why it is not private.
    var transport = ByteBufferBIO()
    /// Makes the buffers for ciphertext, and for plaintext in ``OpenSSLHandler``: the channel's allocator once the
    /// handler is added (it sets it), so the two keep one copy of it between them.
    var allocator = ByteBufferAllocator()
    /// Requests from the peer that make OpenSSL write on its own (see ``takePeerRequests()``), counted by
    /// `messageCallback`.
    private var peerRequests = 0

    init(context: TLSContext, isServer: Bool, serverHostname: String?, session: TLSSession?) throws {
        self.context = context
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.sslContext) else {
            throw TLSError.configurationFailed("SSL_new: " + OpenSSLErrorQueue.drain())
        }
        // From here on `deinit` frees the `SSL`, also if this initialiser throws.
        self.ssl = ssl
        let bio = try ByteBufferBIO.makeBIO(for: self)
        // One BIO for both directions: SSL_set_bio takes the one reference BIO_new gave us.
        SSL_set_bio(ssl, bio, bio)
        sc_SSL_set_msg_callback_arg(ssl, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_msg_callback(ssl, Self.messageCallback)

        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            try self.configureClient(serverHostname: serverHostname, session: session)
        }
    }

    deinit {
        SSL_free(self.ssl)
    }

    /// Sees every TLS message OpenSSL reads or writes. Counts the two a peer can repeat at will to make us
    /// write without writing anything itself: a received KeyUpdate (TLS 1.3; `update_requested` obliges a
    /// KeyUpdate of ours) and a sent no_renegotiation alert (TLS 1.2: our answer to each renegotiating
    /// ClientHello, which OpenSSL ignores without handing it to the message layer).
    private static let messageCallback:
        @convention(c) (
            CInt, CInt, CInt, UnsafeRawPointer?, Int, OpaquePointer?, UnsafeMutableRawPointer?
        ) -> Void = { isWrite, _, contentType, buffer, length, _, argument in
            guard let buffer, length > 0, let argument else {
                return
            }
            let counts =
                (isWrite == 0 && contentType == SSL3_RT_HANDSHAKE
                    && CInt(buffer.load(as: UInt8.self)) == SSL3_MT_KEY_UPDATE)
                || (isWrite != 0 && contentType == SSL3_RT_ALERT && length >= 2
                    && CInt(buffer.load(fromByteOffset: 1, as: UInt8.self)) == SSL_AD_NO_RENEGOTIATION)
            if counts {
                Unmanaged<SSLConnection>.fromOpaque(argument)._withUnsafeGuaranteedRef { $0.peerRequests += 1 }
            }
        }

    /// KeyUpdates received and renegotiation attempts refused since the last call.
    func takePeerRequests() -> Int {
        defer { self.peerRequests = 0 }
        return self.peerRequests
    }

    private func configureClient(serverHostname: String?, session: TLSSession?) throws {
        if let serverHostname {
            OpenSSLErrorQueue.clear()
            // An IP literal is checked against the certificate's IP SANs and must not be sent as SNI.
            if X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(self.ssl), serverHostname) == 1 {
                OpenSSLErrorQueue.clear()
            } else {
                OpenSSLErrorQueue.clear()
                guard sc_SSL_set_tlsext_host_name(self.ssl, serverHostname) == 1,
                    SSL_set1_host(self.ssl, serverHostname) == 1
                else {
                    throw TLSError.configurationFailed(
                        "server name '\(serverHostname)': " + OpenSSLErrorQueue.drain()
                    )
                }
            }
        }
        if let session {
            OpenSSLErrorQueue.clear()
            guard SSL_set_session(self.ssl, session.session) == 1 else {
                throw TLSError.configurationFailed("SSL_set_session: " + OpenSSLErrorQueue.drain())
            }
        }
    }

    // MARK: Bytes in and out

    /// Hands ciphertext from the network to OpenSSL. Follow with an SSL call, then ``releaseConsumedInput()``.
    func consumeDataFromNetwork(_ buffer: ByteBuffer) {
        self.transport.receive(buffer)
    }

    /// All ciphertext OpenSSL has produced so far, or `nil` if there is none.
    func dataForNetwork() -> ByteBuffer? {
        self.transport.takeOutput()
    }

    /// After the SSL calls that followed a receive: lets go of what OpenSSL has read.
    func releaseConsumedInput() {
        self.transport.compactInput(allocator: self.allocator)
    }

    /// Bytes held for this connection's ciphertext; for tests of per-connection memory.
    var bufferedAllocation: Int {
        self.transport.bufferedAllocation
    }

    // MARK: SSL operations

    func doHandshake() -> SSLOperationResult<Void> {
        OpenSSLErrorQueue.clear()
        let rc = SSL_do_handshake(self.ssl)
        if rc == 1 {
            return .complete(())
        }
        return self.interpret(rc, failure: TLSError.handshakeFailed)
    }

    /// Decrypts into `buffer`. `.complete(n)` means n bytes were appended; call again until `.incomplete`.
    func read(into buffer: inout ByteBuffer) -> SSLOperationResult<Int> {
        var rc: CInt = 0
        OpenSSLErrorQueue.clear()
        // 16 KiB is the largest TLS record's plaintext: one SSL_read never returns more.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { pointer in
            rc = SSL_read(self.ssl, pointer.baseAddress, CInt(min(pointer.count, Int(CInt.max))))
            return max(0, Int(rc))
        }
        if rc > 0 {
            return .complete(Int(rc))
        }
        return self.interpret(rc, failure: TLSError.readFailed)
    }

    /// Encrypts all of `buffer` into the output BIO.
    func write(_ buffer: ByteBuffer) -> SSLOperationResult<Void> {
        var buffer = buffer
        while buffer.readableBytes > 0 {
            // SSL_write takes an int length; the BIO takes everything, so one call per chunk suffices,
            // but a short count is still honoured by looping.
            let chunk = min(buffer.readableBytes, 1 << 30)
            OpenSSLErrorQueue.clear()
            let rc = buffer.withUnsafeReadableBytes { SSL_write(self.ssl, $0.baseAddress, CInt(chunk)) }
            guard rc > 0 else {
                let result: SSLOperationResult<Void> = self.interpret(rc, failure: TLSError.writeFailed)
                switch result {
                case .incomplete, .complete:
                    return .failed(TLSError.writeFailed("no progress: OpenSSL asked to retry a write"))
                case .closedByPeer:
                    return .closedByPeer
                case .failed(let error):
                    return .failed(error)
                }
            }
            buffer.moveReaderIndex(forwardBy: Int(rc))
        }
        return .complete(())
    }

    /// Sends our close_notify (first call). `.complete` once the peer's close_notify has been received too.
    func shutdown() -> SSLOperationResult<Void> {
        OpenSSLErrorQueue.clear()
        let rc = SSL_shutdown(self.ssl)
        switch rc {
        case 1:
            return .complete(())
        case 0:
            return .incomplete
        default:
            let result: SSLOperationResult<Void> = self.interpret(rc, failure: TLSError.shutdownFailed)
            switch result {
            case .closedByPeer:
                return .complete(())
            case let other:
                return other
            }
        }
    }

    /// Marks a connection whose peer vanished without close_notify (after a complete handshake) as ended, so
    /// that freeing it keeps its session resumable. OpenSSL takes an `SSL` freed without `SSL_SENT_SHUTDOWN`
    /// for a broken one and removes its session from the cache (RFC 2246's rule). RFC 5246 §7.2.1 dropped that
    /// rule for TLS 1.1 and later, and TLS 1.3 never had it: a lost network or a closed laptop lid must not
    /// cost the next connection a full handshake. A connection that failed on a fatal alert is unaffected:
    /// OpenSSL removed its session when the alert was sent or received.
    func keepSessionAfterUncleanEnd() {
        SSL_set_shutdown(self.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN)
    }

    /// Maps a failed call's return code through `SSL_get_error`. Must run right after the call: it reads
    /// the error queue that call left.
    private func interpret<Value>(_ rc: CInt, failure: (String) -> TLSError) -> SSLOperationResult<Value> {
        let code = SSL_get_error(self.ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_X509_LOOKUP, SSL_ERROR_WANT_ASYNC,
            SSL_ERROR_WANT_CLIENT_HELLO_CB:
            return .incomplete
        case SSL_ERROR_ZERO_RETURN:
            return .closedByPeer
        case SSL_ERROR_SYSCALL:
            return .failed(failure(OpenSSLErrorQueue.drain(fallback: "unexpected end of data")))
        default:
            var reason = OpenSSLErrorQueue.drain()
            let verifyResult = SSL_get_verify_result(self.ssl)
            if verifyResult != X509_V_OK, let text = X509_verify_cert_error_string(verifyResult) {
                reason += " (certificate: \(String(cString: text)))"
            }
            return .failed(failure(reason))
        }
    }

    // MARK: Facts about the connection

    func handshakeInfo() -> TLSHandshakeCompleted {
        let version = SSL_get_version(self.ssl).map { Self.shared(String(cString: $0)) } ?? "unknown"
        let cipher = SSL_get_current_cipher(self.ssl).flatMap { SSL_CIPHER_get_name($0) }.map {
            Self.shared(String(cString: $0))
        }
        return TLSHandshakeCompleted(
            protocolVersion: version,
            cipher: cipher ?? "unknown",
            peerCertificateFingerprint: self.verifiedPeerFingerprint(),
            sessionReused: SSL_session_reused(self.ssl) == 1,
            applicationProtocol: self.negotiatedProtocol()
        )
    }

    /// What ALPN agreed on, if anything.
    private func negotiatedProtocol() -> String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(self.ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The names every connection reports, as shared instances: a cipher name is longer than a small string,
    /// so each connection would otherwise keep its own heap copy (in its session and in the hub).
    private static let commonNames: [String] =
        [
            "TLSv1.3", "TLSv1.2", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        ] + TLSContext.tls12CipherList.split(separator: ":").map(String.init)

    private static func shared(_ name: String) -> String {
        commonNames.first { $0 == name } ?? name
    }

    private func verifiedPeerFingerprint() -> String? {
        guard SSL_get_verify_mode(self.ssl) & SSL_VERIFY_PEER != 0,
            let certificate = SSL_get0_peer_certificate(self.ssl),
            SSL_get_verify_result(self.ssl) == X509_V_OK,
            let digest = CertificateDigest.sha256(certificate)
        else {
            return nil
        }
        return CertificateDigest.lowercaseHex(digest)
    }

    /// The current session, if a later connection could resume it. In TLS 1.3 that is only true once
    /// the server's NewSessionTicket has been read, i.e. after some `read(into:)` following the handshake.
    func resumableSession() -> TLSSession? {
        guard let session = SSL_get1_session(self.ssl) else {
            return nil
        }
        guard SSL_SESSION_is_resumable(session) == 1 else {
            SSL_SESSION_free(session)
            return nil
        }
        return TLSSession(owning: session)
    }
}
