import NIOCore

/// The server's line formats: the user-visible contract of README.md's "Protocol" section.
///
/// `* ` notice, `! ` error, `[dm] ` / `[dm -> name] ` direct messages, `name: text` chat. Every line ends in
/// `\n`. Each function builds one buffer that may be shared by every recipient.
public enum ServerLine {
    public static func notice(_ text: String) -> ByteBuffer {
        make(prefix: "* ", text)
    }

    public static func error(_ text: String) -> ByteBuffer {
        make(prefix: "! ", text)
    }

    public static func chat(from name: String, _ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(name.utf8.count + text.utf8.count + 3)
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(text)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// What the recipient of a direct message sees.
    public static func directMessage(from name: String, _ text: String) -> ByteBuffer {
        make(prefix: "[dm] ", "\(name): \(text)")
    }

    /// The sender's confirmation of a direct message.
    public static func directMessageSent(to name: String, _ text: String) -> ByteBuffer {
        make(prefix: "[dm -> \(name)] ", text)
    }

    /// A history line replayed to a newcomer, marked with the time it was first sent: `[HH:MM:SS] line`.
    public static func replayed(_ line: ByteBuffer, at time: Timestamp) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(line.readableBytes + 11)
        buffer.writeStaticString("[")
        buffer.writeString(time.timeOfDay)
        buffer.writeStaticString("] ")
        buffer.writeImmutableBuffer(line)
        return buffer
    }

    private static func make(prefix: String, _ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(prefix.utf8.count + text.utf8.count + 1)
        buffer.writeString(prefix)
        buffer.writeString(text)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }
}
