import COpenSSL
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TLS client on a blocking loopback socket, driving OpenSSL directly: for what no well-behaved client
/// (``OpenSSLHandler`` included) does on purpose: dropping TCP without close_notify, KeyUpdate floods,
/// TLS 1.2 renegotiation. Every blocking call is bounded by socket timeouts, so a test fails, never hangs.
///
/// `@unchecked Sendable`: a test hands it from one blocking step (``onOwnThread(_:)``) to the next, never
/// using it from two at once.
final class RawTLSClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let fd: CInt
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port` and completes a handshake (the server's certificate is not checked: these
    /// tests are about what happens after). `maximumVersion` is an OpenSSL constant such as `TLS1_2_VERSION`.
    /// `receiveBufferBytes` shrinks the socket's receive buffer, so what the server sends and we never read
    /// piles up in the server rather than in our kernel. `batchWrites` gathers records in a 4 KiB buffer
    /// (sent by ``flush()`` or when full) instead of one system call each.
    init(
        port: Int,
        maximumVersion: CInt = TLS1_3_VERSION,
        timeout: Int = 10,
        receiveBufferBytes: CInt? = nil,
        batchWrites: Bool = false,
        resuming session: RawTLSSession? = nil
    ) throws {
        // A write to a socket the server has closed must fail, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBufferBytes {
            // Before connect, so the window the server sees is small from the start.
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0, let context = SSL_CTX_new(TLS_client_method()) else {
            Glibc.close(fd)
            throw Failure(description: "connect: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.context = context
        _ = sc_SSL_CTX_set_max_proto_version(context, maximumVersion)
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            Glibc.close(fd)
            throw Failure(description: "SSL_new failed")
        }
        self.ssl = ssl
        if batchWrites, let reader = BIO_new_socket(fd, BIO_NOCLOSE), let writer = BIO_new_socket(fd, BIO_NOCLOSE),
            let buffer = BIO_new(BIO_f_buffer())
        {
            SSL_set_bio(ssl, reader, BIO_push(buffer, writer))
        } else {
            SSL_set_fd(ssl, fd)
        }
        if let session {
            guard let decoded = session.decoded() else { throw Failure(description: "d2i_SSL_SESSION failed") }
            defer { SSL_SESSION_free(decoded) }
            guard SSL_set_session(ssl, decoded) == 1 else {
                throw Failure(description: "SSL_set_session: \(Self.lastError())")
            }
        }
        ERR_clear_error()
        guard SSL_connect(ssl) == 1 else {
            throw Failure(description: "handshake: \(Self.lastError())")
        }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
        Glibc.close(fd)
    }

    var protocolVersion: String {
        String(cString: SSL_get_version(ssl))
    }

    /// Whether the handshake resumed the session given to `init`.
    var sessionReused: Bool {
        SSL_session_reused(ssl) == 1
    }

    /// The session to offer on the next connection, if the server made one resumable (on TLS 1.3 its ticket
    /// comes after the handshake: read something first, e.g. ``login(_:)``).
    func resumableSession() -> RawTLSSession? {
        guard let session = SSL_get1_session(ssl) else { return nil }
        defer { SSL_SESSION_free(session) }
        guard SSL_SESSION_is_resumable(session) == 1 else { return nil }
        return RawTLSSession(encoding: session)
    }

    /// Writes all of `text`; false once the connection is gone (or a write timed out).
    @discardableResult
    func write(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        ERR_clear_error()
        return bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, CInt($0.count)) } == CInt(bytes.count)
    }

    /// Sends what ``write(_:)`` gathered (with `batchWrites`); false once the connection is gone.
    @discardableResult
    func flush() -> Bool {
        BIO_ctrl(SSL_get_wbio(ssl), BIO_CTRL_FLUSH, 0, nil) == 1
    }

    /// The next line without its newline; nil on EOF, error or timeout.
    func readLine() -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, CInt($0.count)) }
            guard count > 0 else { return nil }
            pending += buffer[..<Int(count)]
        }
    }

    func readUntil(_ matches: (String) -> Bool) throws -> String {
        while let line = readLine() {
            if matches(line) { return line }
        }
        throw Failure(description: "connection ended before the expected line")
    }

    /// Reads the greeting and logs in as `name`.
    func login(_ name: String) throws {
        _ = try readUntil { $0.hasPrefix("* Choose a username") }
        guard write(name + "\n") else { throw Failure(description: "could not send the username") }
        _ = try readUntil { $0.hasPrefix("* Welcome, \(name)!") }
    }

    /// Queues a TLS 1.3 KeyUpdate that obliges the server to answer with one of its own; it is sent with the
    /// next write. False if OpenSSL refuses (the connection is gone).
    func requestKeyUpdate() -> Bool {
        ERR_clear_error()
        return SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) == 1
    }

    /// Tries a TLS 1.2 renegotiation; returns OpenSSL's reason for the failure, or nil if it succeeded.
    func renegotiate() -> String? {
        ERR_clear_error()
        guard SSL_renegotiate(ssl) == 1 else { return "SSL_renegotiate: \(Self.lastError())" }
        ERR_clear_error()
        if SSL_do_handshake(ssl) != 1 { return Self.lastError() }
        // A renegotiation completes inside a later read; read until OpenSSL says how it went.
        ERR_clear_error()
        var byte: UInt8 = 0
        if SSL_read(ssl, &byte, 1) <= 0 {
            let reason = Self.lastError()
            return reason.isEmpty ? "connection closed" : reason
        }
        return SSL_renegotiate_pending(ssl) == 1 ? "still pending" : nil
    }

    /// Sends close_notify, then a TCP FIN.
    func closeWithCloseNotify() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        shutdown(fd, CInt(SHUT_WR))
    }

    /// Sends a TCP FIN without close_notify: the TLS stream simply stops, as if cut on the path.
    func closeWithoutCloseNotify() {
        shutdown(fd, CInt(SHUT_WR))
    }

    /// Waits until the server closes its side (EOF or reset), reading and discarding what it sent; false if
    /// it is still open after the socket timeout.
    func waitForServerClose() -> Bool {
        self.drainUntilServerCloses().closed
    }

    /// As ``waitForServerClose()``, also returning how many bytes (ciphertext) were read meanwhile.
    func drainUntilServerCloses() -> (closed: Bool, bytes: Int) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count == 0 { return (true, total) }
            if count < 0 { return (errno != EAGAIN && errno != EWOULDBLOCK, total) }
            total += count
        }
    }

    private static func lastError() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.joined(separator: "; ")
    }
}

/// Runs blocking socket work on a thread of its own, so it never stalls the cooperative pool that the
/// in-process server and other tests share.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

/// A client-side session, saved as DER the way `openssl s_client -sess_out` saves it, to resume with a later
/// ``RawTLSClient``. A copy, not the live session: OpenSSL marks a client's own session not resumable when
/// that client's `SSL` is freed without close_notify, so a client that vanishes can only resume from what it
/// saved before (as s_client does); these tests are about the server keeping its side.
struct RawTLSSession: Sendable {
    let der: [UInt8]

    init?(encoding session: OpaquePointer) {
        let length = i2d_SSL_SESSION(session, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> CInt in
            var cursor = buffer.baseAddress
            return i2d_SSL_SESSION(session, &cursor)
        }
        guard written == length else { return nil }
        self.der = der
    }

    /// A new `SSL_SESSION` (free it with `SSL_SESSION_free`), or nil if the bytes do not decode.
    func decoded() -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_SSL_SESSION(nil, &cursor, CLong(buffer.count))
        }
    }
}
