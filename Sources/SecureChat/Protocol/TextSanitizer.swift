import NIOCore

/// Turns bytes a client sent into text that is safe to show on anyone's terminal.
///
/// Invalid UTF-8 becomes U+FFFD; C0 controls (TAB becomes a space), DEL, C1 controls — ESC among them, so no
/// CSI, OSC or other escape sequence survives — and the Unicode bidi overrides and isolates are removed.
/// Leading and trailing spaces are trimmed, so a line of only controls or spaces comes out empty.
public enum TextSanitizer {
    /// Sanitises one line of input.
    public static func sanitize(_ buffer: ByteBuffer) -> String {
        let view = buffer.readableBytesView
        // Fast path: printable ASCII only (the common case) needs no scalar-by-scalar pass.
        if view.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return trimmed(String(decoding: view, as: UTF8.self))
        }
        return sanitize(String(decoding: view, as: UTF8.self))
    }

    /// Sanitises text that is already a `String` (it may still hold controls).
    public static func sanitize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\t" {
                scalars.append(" ")
            } else if isAllowed(scalar) {
                scalars.append(scalar)
            }
        }
        return trimmed(String(scalars))
    }

    /// Whether a scalar may reach another user's terminal.
    public static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return false  // C0, DEL, C1 (ESC is 0x1B, CSI 0x9B, OSC 0x9D)
        case 0x202A...0x202E, 0x2066...0x2069: return false  // bidi embeddings, overrides and isolates
        default: return true
        }
    }

    private static func trimmed(_ text: String) -> String {
        guard let first = text.firstIndex(where: { $0 != " " }) else { return "" }
        let last = text.lastIndex(where: { $0 != " " })!
        if first == text.startIndex && text.index(after: last) == text.endIndex { return text }
        return String(text[first...last])
    }
}
