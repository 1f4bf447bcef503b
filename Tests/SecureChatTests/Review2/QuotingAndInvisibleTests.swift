import NIOCore
import Testing

@testable import SecureChat

/// Issue 24, point 8: user words in quotes stay in their quotes whatever combines with a quote, and
/// default-ignorable code points are removed from chat text, but for what emoji sequences need.
@Suite("Review 2: quoting scalar by scalar, default-ignorable code points")
struct QuotingAndInvisibleTests {
    private func clean(_ text: String) -> String {
        TextSanitizer.sanitize(ByteBuffer(string: text))
    }

    @Test("a quote that a combining scalar joins is still escaped", arguments: ["\u{34F}", "\u{301}", "\u{20DD}"])
    func combinedQuoteIsEscaped(mark: String) {
        let reason = "x\"\(mark)) * admin joined #lobby"
        let text = CloseReason.quit(message: reason).leaveText
        #expect(text.unicodeScalars.elementsEqual("quit: \"x\\\"\(mark)) * admin joined #lobby\"".unicodeScalars))
        // Every quote but the two around the words is escaped.
        let scalars = Array(text.unicodeScalars)
        let unescaped = scalars.indices.filter { scalars[$0] == "\"" && scalars[$0 - 1] != "\\" }
        #expect(unescaped == [6, scalars.count - 1])
    }

    @Test("end to end: /quit with a quote and a combining mark cannot close the quotes")
    func quitCannotForgeANotice() async throws {
        try await withTestServer { server in
            let alice = try await server.login("alice")
            let bob = try await server.login("bob")
            _ = try await alice.sync()
            // U+0301 survives sanitising (it is a real accent), and joins the quote into one Character.
            bob.send("/quit x\"\u{301}) * admin joined #lobby")
            let line = try await alice.readUntil { $0.hasPrefix("* bob left") }
            #expect(
                line.unicodeScalars.elementsEqual(
                    "* bob left #lobby (quit: \"x\\\"\u{301}) * admin joined #lobby\")".unicodeScalars))
        }
    }

    @Test(
        "default-ignorable code points are removed from chat text",
        arguments: [0x034F, 0x115F, 0x3164, 0xFFA0, 0x17B4, 0x180B, 0x1D173, 0xE0101 - 0x100, 0xFFF0] as [UInt32])
    func defaultIgnorableRemoved(scalar: UInt32) {
        let character = String(Character(Unicode.Scalar(scalar)!))
        #expect(clean("a" + character + "b") == "ab", "U+\(String(scalar, radix: 16))")
    }

    @Test("U+034F cannot glue onto a quote in chat text")
    func graphemeJoinerRemoved() {
        #expect(clean("x\"\u{34F}) y") == "x\") y")
    }

    @Test(
        "emoji sequences keep their joiners and variation selectors",
        arguments: [
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",  // family
            "\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}",  // rainbow flag
            "\u{1F469}\u{1F3FD}\u{200D}\u{1F4BB}",  // woman technologist, medium skin tone
            "\u{2764}\u{FE0F}", "\u{263A}\u{FE0E}", "1\u{FE0F}\u{20E3}", "\u{845B}\u{E0100}",
        ])
    func emojiSequencesSurvive(text: String) {
        #expect(clean("go " + text + " !").unicodeScalars.elementsEqual(("go " + text + " !").unicodeScalars))
    }

    @Test(
        "a joiner or variation selector with nothing to join or select is removed",
        arguments: [
            ("a\u{200D}b", "ab"), ("\u{1F600}\u{200D}b", "\u{1F600}b"), ("a\u{200D}\u{1F600}", "a\u{1F600}"),
            ("\u{1F600}\u{200D}\u{200D}\u{1F600}", "\u{1F600}\u{200D}\u{1F600}"), ("\u{FE0F}a", "a"),
            ("a\u{FE0F}\u{FE0F}", "a\u{FE0F}"), ("a \u{FE0F}b", "a b"), ("\u{200D}", ""),
        ])
    func loneJoinersRemoved(input: String, output: String) {
        #expect(clean(input).unicodeScalars.elementsEqual(output.unicodeScalars))
    }
}
