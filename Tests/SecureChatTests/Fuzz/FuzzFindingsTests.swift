import NIOCore
import NIOEmbedded
import SecureChat
import Testing

/// Regressions for what the fuzz targets in `Fuzz/` found, one test per finding, each the smallest input.
@Suite("Fuzz findings")
struct FuzzFindingsTests {
    /// Everything a decoder with TLS detection produced for `reads`, fed as separate reads, then EOF.
    private func decode(_ reads: [[UInt8]]) throws -> [InboundLine] {
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(LineDecoder(maximumLength: 64, detectTLSClientHello: true))
        )
        // Never closed, an EmbeddedChannel is never freed (its pipeline points back at it).
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        for bytes in reads {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        }
        channel.pipeline.fireChannelInactive()
        var events: [InboundLine] = []
        while let event = try channel.readInbound(as: InboundLine.self) {
            events.append(event)
        }
        return events
    }

    /// FuzzLineDecoder: after a refused TLS record only the rest of the FIRST read was dropped, so bytes of the
    /// handshake that came in a later read ("A\n" here) were decoded as chat lines: the events depended on how
    /// the network cut the stream.
    @Test("after a TLS record nothing passes as a line, however the stream was cut")
    func nothingAfterRefusedTLSRecord() throws {
        let stream: [UInt8] = [0x16, 0x03, 0x01, 0x41, 0x0A, 0x42, 0x0A]
        #expect(try decode([stream]) == [.tlsOnPlaintextPort])
        #expect(try decode([Array(stream[..<3]), Array(stream[3...])]) == [.tlsOnPlaintextPort])
        #expect(try decode(stream.map { [$0] }) == [.tlsOnPlaintextPort])
    }

    /// Found by review while writing FuzzBanFile (which lists every ban it loads): glibc's gmtime_r puts the year
    /// of this `bannedAt` at tm_year == Int32.max, and adding 1900 in Int32 trapped, so a ban file carrying it
    /// loaded fine and then crashed the server at the first `/bans`.
    @Test("a ban dated at the end of glibc's calendar is listed, not a crash")
    func banAtTheEndOfTime() throws {
        let stamp = Timestamp(secondsSinceEpoch: 67_768_036_191_676_799)
        #expect(stamp.dateTime == "2147485547-12-31 23:59:59 UTC")
        let ban = Ban(name: "mallory", network: nil, bannedBy: "op", bannedAt: stamp, reason: nil)
        #expect(ban.summary.hasPrefix("mallory, by op at 2147485547-"))
    }

    /// FuzzTextSanitizer, once its oracle forbade every format character (general category Cf) as the issue's
    /// invariant says, not only the listed ones: the deprecated bidi-shaping controls U+206A-U+206F, the
    /// interlinear annotation characters, the shorthand, musical and hieroglyph format controls and the
    /// prepended concatenation marks all reached other users' terminals. Every Cf scalar is now removed.
    @Test(
        "every format character (Cf) is removed",
        arguments: [
            0x206A, 0x206B, 0x206C, 0x206D, 0x206E, 0x206F, 0xFFF9, 0xFFFA, 0xFFFB, 0x0600, 0x0605, 0x06DD, 0x070F,
            0x08E2, 0x110BD, 0x13430, 0x1BCA0, 0x1BCA3, 0x1D173, 0x1D17A,
        ] as [UInt32]
    )
    func formatCharactersAreRemoved(value: UInt32) throws {
        let scalar = try #require(Unicode.Scalar(value))
        #expect(scalar.properties.generalCategory == .format)
        let text = "a" + String(Character(scalar)) + "b"
        #expect(TextSanitizer.sanitize(ByteBuffer(string: text)) == "ab", "U+\(String(value, radix: 16))")
        #expect(TextSanitizer.sanitize(text) == "ab")
        #expect(!TextSanitizer.isAllowed(scalar))
    }

    /// FuzzCommand ("an argument is one word, without a space"): words were cut at `Character` spaces, and a
    /// space after a prepended concatenation mark (U+0600-U+0605, U+0D4E, ...) is part of that mark's grapheme,
    /// so `/kick bob\u{0D4E} spam` kicked a user named "bob\u{0D4E} spam" and `/unban a\u{0601} b` unbanned a
    /// target holding a space. Words are now cut at every U+0020.
    @Test("a space after a prepended concatenation mark still separates words")
    func spaceAfterPrependMark() {
        #expect(Command.parse("/kick bob\u{0D4E} spam") == .success(.kick(user: "bob\u{0D4E}", reason: "spam")))
        #expect(Command.parse("/msg bob\u{0D4E} hi there") == .success(.message(to: "bob\u{0D4E}", text: "hi there")))
        #expect(Command.parse("/unban a\u{0601} b") == .failure(.usage("/unban <user|address>")))
        #expect(Command.parse("/whois a\u{0D4E}") == .success(.whois(user: "a\u{0D4E}")))
        // What the server parses is sanitised first (U+0601 is a format character, now removed).
        let line = "/" + TextSanitizer.sanitize(ByteBuffer(string: "kick bob\u{0601} spam"))
        #expect(Command.parse(line) == .success(.kick(user: "bob", reason: "spam")))
    }

    /// Names invariant "only allowed bytes are accepted": the room name was lower-cased before its bytes were
    /// checked, and Unicode maps the Kelvin sign (U+212A) to ASCII "k", so a look-alike spelling joined `#key`.
    @Test("a room name with a Kelvin sign is refused, not folded into ASCII")
    func kelvinSignRoom() {
        #expect(RoomName(parsing: "#\u{212A}ey") == nil)
        #expect(RoomName(parsing: "\u{212A}") == nil)
        #expect(RoomName(parsing: "#KEY")?.value == "#key")
    }
}
