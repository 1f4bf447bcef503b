import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Splits a stream of byte buffers into lines without allocating per line: each line is handed to the
/// caller as a view into the received bytes (without `\n` or `\r\n`). A line split across reads is
/// carried over in one reusable buffer.
public struct LineSplitter {
    private var carry: ByteBuffer
    /// Bytes of a partial line kept at most; longer lines are cut (the benchmark's lines are short).
    public let maximumLength: Int

    public init(maximumLength: Int = 64 * 1024) {
        self.maximumLength = maximumLength
        self.carry = ByteBufferAllocator().buffer(capacity: 0)
    }

    /// Feeds received bytes; calls `body` once per complete line, in order.
    public mutating func feed(_ buffer: ByteBuffer, _ body: (UnsafeRawBufferPointer) -> Void) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            var start = 0
            if carry.readableBytes > 0 {
                guard let newline = memchr(base, 0x0A, bytes.count) else {
                    appendToCarry(UnsafeRawBufferPointer(rebasing: bytes[0...]))
                    return
                }
                let end = base.distance(to: UnsafeRawPointer(newline))
                appendToCarry(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
                carry.withUnsafeReadableBytes { Self.emit($0, body) }
                carry.clear()
                start = end + 1
            }
            while start < bytes.count {
                guard let newline = memchr(base + start, 0x0A, bytes.count - start) else {
                    appendToCarry(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                    return
                }
                let end = base.distance(to: UnsafeRawPointer(newline))
                Self.emit(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), body)
                start = end + 1
            }
        }
    }

    private mutating func appendToCarry(_ bytes: UnsafeRawBufferPointer) {
        let room = maximumLength - carry.readableBytes
        guard room > 0 else { return }
        carry.writeBytes(UnsafeRawBufferPointer(rebasing: bytes.prefix(room)))
    }

    private static func emit(_ line: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        if let last = line.last, last == 0x0D {
            body(UnsafeRawBufferPointer(rebasing: line.dropLast()))
        } else {
            body(line)
        }
    }
}
