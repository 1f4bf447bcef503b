import NIOCore

/// The text of one benchmark chat message: `<sender> <sequence> <sent-ns> ` and `x` padding up to the
/// requested size. The server delivers it as `name: text`; ``parse(_:)`` reads it back from the bytes after
/// `": "` without allocating.
public struct BenchPayload: Equatable, Sendable {
    /// Index of the sending client among the senders (0-based).
    public var sender: Int
    /// 0-based position in that sender's stream.
    public var sequence: Int
    /// Monotonic send time in nanoseconds (same clock in every client of one chatbench process).
    public var sentNanoseconds: UInt64

    public init(sender: Int, sequence: Int, sentNanoseconds: UInt64) {
        self.sender = sender
        self.sequence = sequence
        self.sentNanoseconds = sentNanoseconds
    }

    /// Appends the message (text and `\n`) to `buffer`, padded with `x` to `size` bytes of text when the
    /// header is shorter.
    public func write(into buffer: inout ByteBuffer, size: Int) {
        writeText(into: &buffer, size: size)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// Appends the message's text alone (no line end), padded like ``write(into:size:)``.
    public func writeText(into buffer: inout ByteBuffer, size: Int) {
        let start = buffer.writerIndex
        Self.writeDecimal(UInt64(sender), into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(UInt64(sequence), into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(sentNanoseconds, into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        let padding = size - (buffer.writerIndex - start)
        if padding > 0 {
            buffer.writeRepeatingByte(UInt8(ascii: "x"), count: padding)
        }
    }

    /// Reads a payload from a message's text (the part after `name: `); `nil` if it is not one of ours.
    public static func parse(_ text: UnsafeRawBufferPointer) -> BenchPayload? {
        var index = 0
        guard let sender = readDecimal(text, &index), let sequence = readDecimal(text, &index),
            let sent = readDecimal(text, &index)
        else { return nil }
        return BenchPayload(sender: Int(sender), sequence: Int(sequence), sentNanoseconds: sent)
    }

    /// Reads digits up to a space (consumed) or the end.
    private static func readDecimal(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var digits = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: " ") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 19 else { return nil }
            value = value &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    private static func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        if value == 0 {
            buffer.writeInteger(UInt8(ascii: "0"))
            return
        }
        var divisor: UInt64 = 1
        while value / divisor >= 10 {
            divisor *= 10
        }
        while divisor > 0 {
            buffer.writeInteger(UInt8(ascii: "0") &+ UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
