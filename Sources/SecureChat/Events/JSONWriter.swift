import NIOCore

/// Writes one JSON object into a buffer, field by field: what ``JSONRenderer`` needs and no more. Hand-written
/// rather than `JSONEncoder`, which goes through Foundation and a `Codable` tree for every event; a fan-out
/// renders each event once per format, but a chat line still pays it once.
struct JSONWriter {
    private(set) var buffer: ByteBuffer
    private var needsComma = false

    init(capacity: Int = 64) {
        buffer = ByteBuffer()
        buffer.reserveCapacity(capacity)
        buffer.writeInteger(UInt8(ascii: "{"))
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        Self.writeString(value, into: &buffer)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else {
            key(name)
            buffer.writeStaticString("null")
            return
        }
        field(name, value)
    }

    mutating func field(_ name: StaticString, _ value: Int) {
        key(name)
        buffer.writeString(String(value))
    }

    mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else {
            key(name)
            buffer.writeStaticString("null")
            return
        }
        field(name, value)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        buffer.writeStaticString(value ? "true" : "false")
    }

    /// An array of objects, each written by `body` into a writer of its own.
    mutating func field<Element>(_ name: StaticString, objects: [Element], _ body: (inout JSONWriter, Element) -> Void)
    {
        key(name)
        buffer.writeInteger(UInt8(ascii: "["))
        for (index, element) in objects.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            var object = JSONWriter(capacity: 0)
            body(&object, element)
            var nested = object.finishedObject()
            buffer.writeBuffer(&nested)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    /// The object, closed, and a `\n`: one line per object.
    mutating func finish() -> ByteBuffer {
        buffer.writeStaticString("}\n")
        return buffer
    }

    private mutating func finishedObject() -> ByteBuffer {
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    private mutating func key(_ name: StaticString) {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
        needsComma = true
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
    }

    /// A JSON string: `"` and `\` escaped, every control character as `\u00XX`, and U+2028/U+2029 escaped too, so
    /// the text is safe in any JavaScript context. Everything else is UTF-8 as it is.
    static func writeString(_ value: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        // 0xE2 leads U+2028 and U+2029 (and much else, which then takes the slow path harmlessly).
        let needsEscaping = value.utf8.contains {
            $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0xE2
        }
        if !needsEscaping {
            buffer.writeString(value)
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": buffer.writeStaticString("\\\"")
                case "\\": buffer.writeStaticString("\\\\")
                case "\n": buffer.writeStaticString("\\n")
                case "\r": buffer.writeStaticString("\\r")
                case "\t": buffer.writeStaticString("\\t")
                case "\u{2028}": buffer.writeStaticString("\\u2028")
                case "\u{2029}": buffer.writeStaticString("\\u2029")
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        buffer.writeStaticString("\\u00")
                        buffer.writeString(hex.count == 1 ? "0" + hex : hex)
                    } else {
                        buffer.writeString(String(scalar))
                    }
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
