internal import COpenSSL
import NIOCore

/// The ciphertext between OpenSSL and the channel, and the BIO through which OpenSSL reaches it: OpenSSL reads
/// ciphertext straight out of the `ByteBuffer` the channel received and writes ciphertext straight into a
/// `ByteBuffer` that goes to the channel.
///
/// It replaces a pair of memory BIOs (`BIO_s_mem`), which cost every TLS delivery a copy into the BIO's own buffer,
/// a copy out of it into a fresh `ByteBuffer`, and two `BIO_ctrl` calls to ask what was pending; and which kept
/// their buffers (and two BIO objects) for the connection's whole life. Here an idle connection keeps one BIO
/// object and no buffer: the output leaves with each flush, and the input is dropped once OpenSSL has read it
/// (a partial record is kept in a right-sized copy, so it does not pin the channel's receive buffer).
///
/// A value stored in its ``SSLConnection`` (``SSLConnection/transport``), not an object of its own: every idle TLS
/// connection would otherwise carry one more object header, allocator and reference. The BIO's data is an
/// unretained reference to that connection, which owns the `SSL` (which owns the BIO) and frees it in its `deinit`;
/// OpenSSL calls back only from inside an `SSL_*` call the connection makes. Used on its event loop only.
struct ByteBufferBIO {
    /// Ciphertext received and not yet read by OpenSSL.
    private(set) var input: ByteBuffer?
    /// Ciphertext written by OpenSSL and not yet taken for the network.
    private(set) var output: ByteBuffer?

    /// A BIO whose callbacks read and write `connection.transport`. The caller hands it to `SSL_set_bio`.
    static func makeBIO(for connection: SSLConnection) throws -> OpaquePointer {
        guard let method = Self.method, let bio = BIO_new(method) else {
            throw TLSError.configurationFailed("BIO_new: " + OpenSSLErrorQueue.drain())
        }
        BIO_set_data(bio, Unmanaged.passUnretained(connection).toOpaque())
        BIO_set_init(bio, 1)
        return bio
    }

    /// Appends received ciphertext for OpenSSL to read.
    mutating func receive(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        if self.input == nil || self.input!.readableBytes == 0 {
            self.input = buffer
        } else {
            var buffer = buffer
            self.input!.writeBuffer(&buffer)
        }
    }

    /// After OpenSSL has read what it could: drops a consumed input, and copies a partial record out of a buffer
    /// much larger than it, so that a peer that stops mid-record does not pin the channel's receive buffer.
    mutating func compactInput(allocator: ByteBufferAllocator) {
        guard let input = self.input else { return }
        if input.readableBytes == 0 {
            self.input = nil
        } else if input.capacity - input.readableBytes > 4096 {
            var compact = allocator.buffer(capacity: input.readableBytes)
            compact.writeImmutableBuffer(input)
            self.input = compact
        }
    }

    /// The ciphertext OpenSSL has written since the last call, if any.
    mutating func takeOutput() -> ByteBuffer? {
        defer { self.output = nil }
        return self.output
    }

    /// Bytes this BIO holds allocated (tests of what an idle connection keeps).
    var bufferedAllocation: Int {
        (self.input?.capacity ?? 0) + (self.output?.capacity ?? 0)
    }

    // MARK: Called by OpenSSL

    fileprivate mutating func read(into destination: UnsafeMutableRawBufferPointer, bio: OpaquePointer) -> CInt {
        guard var input = self.input, input.readableBytes > 0 else {
            sc_BIO_set_retry_read(bio)
            return -1
        }
        self.input = nil  // keeps `input` uniquely referenced while it is read from
        let count = min(destination.count, input.readableBytes)
        input.readWithUnsafeReadableBytes { source in
            destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
            return count
        }
        self.input = input
        return CInt(count)
    }

    fileprivate mutating func write(_ source: UnsafeRawBufferPointer, allocator: ByteBufferAllocator) -> CInt {
        if self.output == nil {
            // Usually the whole flush is one record written in one call: this is its exact size.
            self.output = allocator.buffer(capacity: source.count)
        }
        self.output!.writeBytes(source)
        return CInt(source.count)
    }

    // MARK: The BIO method

    /// One method for all connections, made once. `nonisolated(unsafe)`: written once by the lazy initialiser
    /// (which Swift runs exactly once, thread-safely) and only read afterwards; OpenSSL treats it as read-only.
    nonisolated(unsafe) private static let method: OpaquePointer? = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "SecureChat ByteBuffer") else {
            return nil
        }
        BIO_meth_set_write(method, writeCallback)
        BIO_meth_set_read(method, readCallback)
        BIO_meth_set_ctrl(method, controlCallback)
        return method
    }()

    /// Runs `body` on the connection behind `bio`, or returns `otherwise`. The reference is borrowed, not retained:
    /// OpenSSL calls back only from inside an `SSL_*` call of that connection, which keeps it alive (a retain and
    /// release per record showed as 2 % of a TLS delivery in perf).
    private static func withConnection<Result>(
        _ bio: OpaquePointer?, otherwise: Result, _ body: (SSLConnection) -> Result
    ) -> Result {
        guard let bio, let data = BIO_get_data(bio) else { return otherwise }
        return Unmanaged<SSLConnection>.fromOpaque(data)._withUnsafeGuaranteedRef(body)
    }

    private static let writeCallback: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, CInt) -> CInt = {
        bio, bytes, count in
        guard let bio, let bytes, count > 0 else { return 0 }
        sc_BIO_clear_retry_flags(bio)
        return withConnection(bio, otherwise: 0) { connection in
            let allocator = connection.allocator
            return connection.transport.write(
                UnsafeRawBufferPointer(start: bytes, count: Int(count)), allocator: allocator)
        }
    }

    private static let readCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, CInt) -> CInt = {
        bio, bytes, count in
        guard let bio, let bytes, count > 0 else { return 0 }
        sc_BIO_clear_retry_flags(bio)
        return withConnection(bio, otherwise: 0) {
            $0.transport.read(into: UnsafeMutableRawBufferPointer(start: bytes, count: Int(count)), bio: bio)
        }
    }

    /// What OpenSSL asks a BIO: it flushes after each flight (nothing to do: the handler sends what was written),
    /// and asks how much is pending. Everything else is "not supported".
    private static let controlCallback:
        @convention(c) (OpaquePointer?, CInt, CLong, UnsafeMutableRawPointer?) -> CLong = { bio, command, _, _ in
            switch command {
            case BIO_CTRL_FLUSH:
                return 1
            case BIO_CTRL_PENDING:
                return withConnection(bio, otherwise: 0) { CLong($0.transport.input?.readableBytes ?? 0) }
            case BIO_CTRL_WPENDING:
                return withConnection(bio, otherwise: 0) { CLong($0.transport.output?.readableBytes ?? 0) }
            default:
                return 0
            }
        }
}
