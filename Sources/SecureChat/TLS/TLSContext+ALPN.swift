internal import COpenSSL

/// ALPN on the server side: a client that offers `http/1.1` (every browser does, and a WebSocket library
/// usually) gets it, so the connection is known to speak HTTP the moment its handshake ends, with no wait for
/// its first bytes (``ProtocolSniffer``). A client that offers nothing (`openssl s_client`, the line protocol)
/// or only other protocols gets no ALPN answer and the handshake goes on as before (RFC 7301 allows it).
extension TLSContext {
    /// The protocol name a browser's connection is recognised by.
    public static let httpProtocolName = "http/1.1"

    func selectHTTPWhenOffered() {
        SSL_CTX_set_alpn_select_cb(sslContext, Self.selectHTTP, nil)
    }

    /// `http/1.1` in ALPN's wire format (a length byte, then the name), allocated once for the process: the
    /// callback hands OpenSSL a pointer into it. `nonisolated(unsafe)`: written once, at its initialisation,
    /// and only read after.
    nonisolated(unsafe) private static let serverProtocols: UnsafeMutableBufferPointer<UInt8> = {
        let wire = [UInt8(httpProtocolName.utf8.count)] + Array(httpProtocolName.utf8)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: wire.count)
        _ = buffer.initialize(from: wire)
        return buffer
    }()

    private static let selectHTTP:
        @convention(c) (
            OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
            UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
        ) -> Int32 = { _, out, outLength, offered, offeredLength, _ in
            var selected: UnsafeMutablePointer<UInt8>?
            var selectedLength: UInt8 = 0
            let outcome = SSL_select_next_proto(
                &selected, &selectedLength, serverProtocols.baseAddress, UInt32(serverProtocols.count), offered,
                offeredLength)
            guard outcome == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
            out?.pointee = UnsafePointer(selected)
            outLength?.pointee = selectedLength
            return SSL_TLSEXT_ERR_OK
        }
}
