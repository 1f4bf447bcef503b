import NIOCore
import PropertyBased
import SecureChat
import Testing

/// Properties of `TextSanitizer` over random text rich in controls, invisible characters and combining marks.
@Suite("TextSanitizer properties")
struct TextSanitizerProperties {
    /// Scalars the sanitised output must never hold (TAB, U+2028 and U+2029 become spaces). The zero-width
    /// joiner and the variation selectors are checked where they stand (`isMisplaced`).
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        if isVariationSelector(scalar) || scalar.value == 0x200D { return false }
        if scalar.properties.generalCategory == .format { return true }  // every Cf, not only those listed below
        if scalar.properties.isDefaultIgnorableCodePoint { return true }  // U+034F, Hangul fillers, ... (issue 24)
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true  // C0 (ESC among them), DEL, C1
        case 0x202A...0x202E, 0x2066...0x2069: return true  // bidi controls
        case 0x200B, 0x200C, 0x200E, 0x200F, 0x2060...0x2064: return true  // zero-width and invisible operators
        case 0xFEFF, 0x061C, 0x00AD, 0x180E: return true
        case 0xE0000...0xE007F: return true  // tags
        case 0x2028, 0x2029: return true
        default: return false
        }
    }

    static func isVariationSelector(_ scalar: Unicode.Scalar) -> Bool {
        (0xFE00...0xFE0F).contains(scalar.value) || (0xE0100...0xE01EF).contains(scalar.value)
    }

    static func isPictographic(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0xA9 && scalar.properties.isEmoji
    }

    /// A joiner that does not stand between two emoji, or a variation selector with no character to select.
    static func isMisplaced(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        let previous = index > 0 ? scalars[index - 1] : nil
        if scalars[index].value == 0x200D {
            guard let previous, index + 1 < scalars.count else { return true }
            let joins = isPictographic(previous) || previous.value == 0xFE0F || previous.value == 0x20E3
            return !joins || !isPictographic(scalars[index + 1])
        }
        if isVariationSelector(scalars[index]) {
            guard let previous else { return true }
            return previous.properties.isWhitespace || isVariationSelector(previous) || previous.value == 0x200D
        }
        return false
    }

    static func isCombiningMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// Scalar values drawn mostly from the ranges the sanitiser cares about, some from anywhere.
    static let pools: [ClosedRange<UInt32>] = [
        0x00...0x1F, 0x20...0x7E, 0x7F...0x9F, 0xA0...0xFF, 0x0300...0x036F, 0x0483...0x0489, 0x0900...0x097F,
        0x061C...0x061C, 0x180E...0x180E, 0x1160...0x1160, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069,
        0x3164...0x3164, 0xFEFF...0xFEFF, 0x1F600...0x1F64F, 0xE0000...0xE007F, 0x0600...0x0605, 0xFFF9...0xFFFB,
        0x200D...0x200D, 0xFE00...0xFE0F, 0x034F...0x034F, 0x1F468...0x1F469,
        0x1BCA0...0x1BCA3, 0x1D173...0x1D17A, 0x0...0x10FFFF,
    ]

    static let text = zip(Gen.int(in: 0..<pools.count), Gen<UInt32>.value(in: 0...UInt32.max))
        .array(of: 0...60)
        .map { picks in
            var scalars = String.UnicodeScalarView()
            for (pool, value) in picks {
                let range = pools[pool]
                let scalar = range.lowerBound + value % (range.upperBound - range.lowerBound + 1)
                scalars.append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
            }
            return String(scalars)
        }

    /// Checks one output: nothing forbidden, at most the allowed stack of marks on any base.
    static func checkSafe(_ output: String) {
        var marks = 0
        let scalars = Array(output.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            #expect(!isForbidden(scalar), "U+\(String(scalar.value, radix: 16)) in \(output.debugDescription)")
            #expect(!isMisplaced(scalars, at: index), "a lone U+\(String(scalar.value, radix: 16))")
            marks = isCombiningMark(scalar) ? marks + 1 : 0
            #expect(marks <= TextSanitizer.maximumCombiningMarks, "\(marks) marks in \(output.debugDescription)")
        }
    }

    @Test("output holds no control, bidi or format character, at most 4 marks per base, and is a fixed point")
    func safeAndIdempotent() async {
        await propertyCheck(count: 300, input: Self.text) { text in
            let once = TextSanitizer.sanitize(text)
            Self.checkSafe(once)
            #expect(TextSanitizer.sanitize(once) == once)
        }
    }

    @Test("random bytes, valid UTF-8 or not, sanitise as safely as text")
    func bytesAreSafe() async {
        await propertyCheck(count: 300, input: Gen<UInt8>.value(in: 0...255).array(of: 0...80)) { bytes in
            let once = TextSanitizer.sanitize(ByteBuffer(bytes: bytes))
            Self.checkSafe(once)
            #expect(TextSanitizer.sanitize(once) == once)
            #expect(once == TextSanitizer.sanitize(String(decoding: bytes, as: UTF8.self)))
        }
    }
}
