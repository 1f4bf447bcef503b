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

    /// Whether the server sent a ticket for this session. On TLS 1.2 it must not (resumption is by session
    /// ID); on TLS 1.3 the ticket only names an entry in the server's cache.
    var hasTicket: Bool {
        SSL_SESSION_has_ticket(self.session) == 1
    }

    deinit {
        SSL_SESSION_free(self.session)
    }
}
