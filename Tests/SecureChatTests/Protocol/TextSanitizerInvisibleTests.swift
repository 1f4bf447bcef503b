import NIOCore
import SecureChat
import Testing

/// Invisible characters, line separators, stacked combining marks and blank-looking lines.
@Suite("TextSanitizer: invisible text")
struct TextSanitizerInvisibleTests {
    private func clean(_ text: String) -> String {
        TextSanitizer.sanitize(ByteBuffer(string: text))
    }

    private static func string(_ scalar: UInt32) -> String {
        String(Character(Unicode.Scalar(scalar)!))
    }

    /// Every format character that shows as nothing, by range.
    static let invisible: [UInt32] =
        Array(0x200B...0x200F) + Array(0x2060...0x2064) + [0xFEFF, 0x061C, 0x00AD, 0x180E]
        + [0xE0000, 0xE0001, 0xE0020, 0xE0041, 0xE0067, 0xE007E, 0xE007F]

    @Test("zero-width and other invisible format characters are removed", arguments: invisible)
    func invisibleIsRemoved(scalar: UInt32) {
        #expect(clean("a" + Self.string(scalar) + "b") == "ab", "U+\(String(scalar, radix: 16))")
    }

    @Test("a tag sequence (flag of England) keeps its black flag and loses the tags")
    func tagSequence() {
        let england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"
        #expect(clean("go " + england) == "go \u{1F3F4}")
    }

    @Test("line and paragraph separators become spaces", arguments: [0x2028, 0x2029] as [UInt32])
    func separators(scalar: UInt32) {
        #expect(clean("a" + Self.string(scalar) + "b") == "a b")
    }

    @Test("at most four combining marks stay on one base character")
    func combiningMarksAreCapped() {
        let marks = String(repeating: "\u{0301}", count: 50)
        let four = String(repeating: "\u{0301}", count: 4)
        #expect(clean("a" + marks + "b" + marks) == "a" + four + "b" + four)
        // Enclosing and spacing marks count too.
        #expect(clean("x" + String(repeating: "\u{20DD}", count: 9)).unicodeScalars.count == 5)
        #expect(clean("\u{0915}" + String(repeating: "\u{093F}", count: 9)).unicodeScalars.count == 5)
    }

    @Test("a removed invisible character does not restart the count of marks")
    func invisibleDoesNotResetMarks() {
        let text = "a" + String(repeating: "\u{0301}\u{200B}", count: 10)
        #expect(clean(text) == "a\u{0301}\u{0301}\u{0301}\u{0301}")
    }

    @Test("real text with marks passes unchanged")
    func realMarks() {
        let samples = ["Tiếng Việt", "e\u{0301}te\u{0301}", "नमस्ते क्षत्रिय", "1\u{FE0F}\u{20E3}", "👍🏽"]
        for sample in samples {
            #expect(clean(sample) == sample)
        }
    }

    @Test(
        "a line of only invisible characters or Unicode whitespace comes out empty",
        arguments: [
            "\u{200B}", "\u{200B}\u{200C}\u{200D}\u{FEFF}", "\u{00A0}", "\u{3000}\u{2003}\u{205F}", "\u{2028}",
            "\u{E0020}\u{E0041}", "\u{3164}", "\u{115F}\u{1160}", "\u{2800}", "\u{00AD}\u{00A0} \t\u{2029}",
        ]
    )
    func blankLines(text: String) {
        #expect(clean(text) == "")
        #expect(TextSanitizer.sanitize(text) == "")
    }

    @Test("Unicode whitespace around the text is trimmed, inside it is kept")
    func unicodeWhitespaceTrimmed() {
        #expect(clean("\u{3000} a\u{00A0}b \u{2003}") == "a\u{00A0}b")
    }

    @Test("sanitised text is never more than three times longer than its input")
    func expansionBound() {
        let input: [UInt8] = Array(repeating: 0xFF, count: 100)
        let output = TextSanitizer.sanitize(ByteBuffer(bytes: input))
        #expect(output.utf8.count == TextSanitizer.maximumExpansion * input.count)
    }
}
