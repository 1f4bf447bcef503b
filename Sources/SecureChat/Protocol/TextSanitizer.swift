import NIOCore

/// Turns bytes a client sent into text that is safe to show on anyone's terminal.
///
/// Invalid UTF-8 becomes U+FFFD; C0 controls (TAB becomes a space), DEL, C1 controls — ESC among them, so no
/// CSI, OSC or other escape sequence survives — the Unicode bidi overrides and isolates, and invisible format
/// characters (zero-width spaces and joiners, word joiner, invisible operators, BOM, Arabic letter mark, soft
/// hyphen, Mongolian vowel separator, tag characters), and every other character of general category Cf
/// (format: the deprecated bidi-shaping controls U+206A–U+206F, interlinear annotation, shorthand, musical
/// and hieroglyph format controls, the prepended concatenation marks) and every other default-ignorable code
/// point (U+034F, the Hangul fillers, ...) are removed, but for the zero-width joiner between two emoji and one
/// variation selector after a character, which emoji sequences need. The line and paragraph
/// separators become spaces. At most `maximumCombiningMarks` combining marks are kept after each base character, so a line
/// cannot stack marks into a tall smear over its neighbours ("Zalgo").
///
/// Leading and trailing whitespace (any Unicode whitespace, and the blank Hangul fillers and Braille blank) is
/// trimmed, so a line that would show as nothing comes out empty and the caller ignores it.
public enum TextSanitizer {
    /// Combining marks kept after one base character; enough for any real script (Vietnamese stacks two).
    public static let maximumCombiningMarks = 4

    /// How many times longer, in UTF-8 bytes, sanitised text can be than its input: an invalid byte becomes
    /// U+FFFD (three bytes); everything else keeps its length or shrinks.
    public static let maximumExpansion = 3

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
        var marksOnBase = 0
        var input = text.unicodeScalars.makeIterator()
        var next = input.next()
        while let scalar = next {
            next = input.next()
            if scalar == "\t" || scalar == "\u{2028}" || scalar == "\u{2029}" {
                scalars.append(" ")
                marksOnBase = 0
            } else if scalar == zeroWidthJoiner {
                // Kept only where it joins two emoji (a family, a profession), so it cannot hide text elsewhere.
                if let previous = scalars.last, joinsEmoji(previous), let following = next, isEmoji(following) {
                    scalars.append(scalar)
                }
            } else if isVariationSelector(scalar) {
                // One per base character (text or emoji presentation, an ideographic variant), counted with the
                // marks on it; a selector with nothing to select shows as nothing, and is removed.
                if let previous = scalars.last, !isBlank(previous), !isVariationSelector(previous),
                    previous != zeroWidthJoiner
                {
                    marksOnBase += 1
                    if marksOnBase <= maximumCombiningMarks { scalars.append(scalar) }
                }
            } else if !isAllowed(scalar) {
                // Removed scalars do not end a run of marks: "a" + marks + ZWSP + marks is still one stack.
                continue
            } else if isCombiningMark(scalar) {
                marksOnBase += 1
                if marksOnBase <= maximumCombiningMarks { scalars.append(scalar) }
            } else {
                scalars.append(scalar)
                marksOnBase = 0
            }
        }
        return trimmed(String(scalars))
    }

    private static let zeroWidthJoiner: Unicode.Scalar = "\u{200D}"

    /// The variation selectors that choose a glyph (U+FE00–U+FE0F, among them text and emoji presentation
    /// U+FE0E and U+FE0F, and the ideographic ones U+E0100–U+E01EF): default-ignorable, but part of the text.
    private static func isVariationSelector(_ scalar: Unicode.Scalar) -> Bool {
        (0xFE00...0xFE0F).contains(scalar.value) || (0xE0100...0xE01EF).contains(scalar.value)
    }

    /// A pictographic emoji (not the digits, `#` and `*`, which are emoji only as keycaps).
    private static func isEmoji(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0xA9 && scalar.properties.isEmoji
    }

    /// What may stand before a joiner in an emoji sequence: an emoji, its presentation selector, a skin tone
    /// (itself an emoji) or a keycap.
    private static func joinsEmoji(_ scalar: Unicode.Scalar) -> Bool {
        isEmoji(scalar) || scalar == "\u{FE0F}" || scalar == "\u{20E3}"
    }

    /// Whether a scalar may reach another user's terminal as it is. (TAB, U+2028 and U+2029 are not, but
    /// `sanitize` turns them into spaces.)
    public static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return false  // C0, DEL, C1 (ESC is 0x1B, CSI 0x9B, OSC 0x9D)
        case 0x202A...0x202E, 0x2066...0x2069: return false  // bidi embeddings, overrides and isolates
        case 0x200B...0x200F: return false  // zero-width space, non-joiner, joiner; LRM, RLM
        case 0x2060...0x2064: return false  // word joiner, invisible function application/times/separator/plus
        case 0xFEFF, 0x061C, 0x00AD, 0x180E: return false  // BOM, Arabic letter mark, soft hyphen, MVS
        case 0xE0000...0xE007F: return false  // tag characters
        case 0x2028, 0x2029: return false  // line and paragraph separators
        case 0x034F: return false  // combining grapheme joiner: default-ignorable, and glues onto a quote
        // Any other format character (Cf), and every other default-ignorable code point (the Hangul fillers,
        // Mongolian variation selectors, Khmer inherent vowels...); none of either lies below U+0600 but the
        // soft hyphen and U+034F, listed above. Variation selectors and the zero-width joiner that emoji need
        // are kept by `sanitize` where they do their job.
        default:
            guard scalar.value >= 0x0600 else { return true }
            let properties = scalar.properties
            return properties.generalCategory != .format && !properties.isDefaultIgnorableCodePoint
        }
    }

    /// Whether `scalar` draws on the character before it (general categories Mn, Mc and Me).
    private static func isCombiningMark(_ scalar: Unicode.Scalar) -> Bool {
        // No combining mark lies below U+0300; this keeps the property lookup off ASCII and Latin-1.
        guard scalar.value >= 0x300 else { return false }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// Whether `scalar` shows as empty space: Unicode whitespace, and the fillers that render blank without
    /// being whitespace (Hangul fillers, Braille pattern blank), which are the usual way to fake an empty name
    /// or line.
    private static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        guard scalar.value >= 0x80 else { return false }
        switch scalar.value {
        case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800: return true
        default: return scalar.properties.isWhitespace
        }
    }

    private static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isBlank($0) })!
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(scalars[first...last])
    }
}
