internal import COpenSSL

/// A TLS session a client can offer again to resume it (abbreviated handshake, no certificate exchange).
///
/// Take it from a finished client connection with ``OpenSSLHandler/resumableSession`` and pass it to the
/// next client ``OpenSSLHandler`` created from the same ``TLSContext``.
///
/// `@unchecked Sendable`: an `SSL_SESSION` is reference counted with atomic counts and is not modified
/// once OpenSSL has handed it out as resumable (OpenSSL itself shares sessions between threads through
/// its session cache); this wrapper only reads it and holds one reference.
public final class TLSSession: @unchecked Sendable {
    /// `SSL_SESSION *`, one reference owned.
    let session: OpaquePointer

    /// Takes ownership of one reference.
    init(owning session: OpaquePointer) {
        self.session = session
    }

    deinit {
        SSL_SESSION_free(self.session)
    }
}
