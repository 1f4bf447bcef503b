import NIOCore
import SecureChat
import Testing

@Suite("TextSanitizer")
struct TextSanitizerTests {
    private func clean(_ bytes: [UInt8]) -> String {
        TextSanitizer.sanitize(ByteBuffer(bytes: bytes))
    }

    private func clean(_ text: String) -> String {
        clean(Array(text.utf8))
    }

    @Test("printable ASCII passes unchanged")
    func plainASCII() {
        #expect(clean("hello, world: 1 + 1 = 2 ~!@#$%^&*()") == "hello, world: 1 + 1 = 2 ~!@#$%^&*()")
    }

    @Test("non-ASCII Unicode passes unchanged")
    func unicode() {
        #expect(clean("grüße, 日本語, emoji 🎉, RTL עברית") == "grüße, 日本語, emoji 🎉, RTL עברית")
    }

    @Test("every C0 control except TAB is removed", arguments: Array(UInt8(0x00)...UInt8(0x1F)).filter { $0 != 0x09 })
    func c0(byte: UInt8) {
        #expect(clean([UInt8(ascii: "a"), byte, UInt8(ascii: "b")]) == "ab")
    }

    @Test("DEL is removed")
    func del() {
        #expect(clean([0x61, 0x7F, 0x62]) == "ab")
    }

    @Test("every C1 control (U+0080-U+009F, as UTF-8) is removed", arguments: Array(UInt32(0x80)...UInt32(0x9F)))
    func c1(scalar: UInt32) {
        let text = "a" + String(Character(Unicode.Scalar(scalar)!)) + "b"
        #expect(clean(text) == "ab")
    }

    @Test("ESC sequences lose their ESC: CSI, OSC, and 8-bit CSI leave no control byte")
    func escapeSequences() {
        let csi = clean("\u{1B}[2J\u{1B}[31mred\u{1B}[0m")
        #expect(csi == "[2J[31mred[0m")
        let osc = clean("\u{1B}]0;pwned title\u{07}text")
        #expect(osc == "]0;pwned titletext")
        let c1CSI = clean("\u{9B}31mred")
        #expect(c1CSI == "31mred")
        for text in [csi, osc, c1CSI] {
            #expect(!text.utf8.contains(0x1B))
            #expect(!text.unicodeScalars.contains { (0x80...0x9F).contains($0.value) })
        }
    }

    @Test(
        "bidi embeddings, overrides and isolates are removed",
        arguments: [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069] as [UInt32]
    )
    func bidi(scalar: UInt32) {
        let text = "a" + String(Character(Unicode.Scalar(scalar)!)) + "b"
        #expect(clean(text) == "ab")
    }

    @Test("neighbours of the removed ranges are kept")
    func boundaries() {
        // U+00A0 (after C1), U+2027 (before U+2028), U+202F (after U+202E), U+2070 (after the format block
        // U+206A-U+206F), and the neighbours of the zero-width and tag ranges. (U+2065, U+180D, U+180F and
        // U+E0080 were here: they are default-ignorable code points, removed since issue 24.)
        for scalar: UInt32 in [
            0xA0, 0x2027, 0x202F, 0x2070, 0x20, 0x200A, 0x2010, 0x205F, 0xAC, 0xAE,
            0xFEFE, 0xFF00, 0x061B, 0x061D, 0x180A, 0x1810, 0xDFFFF, 0xE1000,
        ] {
            let character = String(Character(Unicode.Scalar(scalar)!))
            #expect(clean("a" + character + "b") == "a" + character + "b", "U+\(String(scalar, radix: 16))")
        }
    }

    @Test("TAB becomes a space")
    func tab() {
        #expect(clean("a\tb\t\tc") == "a b  c")
    }

    @Test("leading and trailing spaces (and tabs) are trimmed, inner ones kept")
    func trimming() {
        #expect(clean("   a  b   ") == "a  b")
        #expect(clean("\t a \t") == "a")
    }

    @Test("a line of only spaces and controls comes out empty")
    func onlyControls() {
        #expect(clean("") == "")
        #expect(clean("    ") == "")
        #expect(clean([0x1B, 0x07, 0x09, 0x20, 0x7F, 0xC2, 0x9B]) == "")
        #expect(clean("\u{202E}\u{2066}") == "")
    }

    @Test("invalid UTF-8 becomes U+FFFD")
    func invalidUTF8() {
        #expect(clean([0x61, 0xFF, 0x62]) == "a\u{FFFD}b")
        #expect(clean([0x61, 0xC3]) == "a\u{FFFD}")  // truncated sequence
        #expect(clean([0xED, 0xA0, 0x80]).unicodeScalars.allSatisfy { $0 == "\u{FFFD}" })  // surrogate
        #expect(clean([0xC0, 0xAF]).unicodeScalars.allSatisfy { $0 == "\u{FFFD}" })  // overlong "/"
    }

    @Test("a lone 0x9B byte (8-bit CSI) is invalid UTF-8: it becomes U+FFFD, never a raw 0x9B")
    func rawC1Byte() {
        let text = clean([0x9B, 0x33, 0x31, 0x6D])
        #expect(text == "\u{FFFD}31m")
        #expect(!Array(text.utf8).contains(0x9B))
    }

    @Test("the String entry point applies the same rules")
    func stringEntryPoint() {
        #expect(TextSanitizer.sanitize(" \u{1B}[1mhi\u{202E}\t") == "[1mhi")
    }
}
