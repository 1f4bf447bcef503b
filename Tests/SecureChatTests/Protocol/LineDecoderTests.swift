import NIOCore
import NIOEmbedded
import SecureChat
import Testing

@Suite("LineDecoder")
struct LineDecoderTests {
    /// A channel with only the decoder, and the events it produced. The channel is finished when the harness goes
    /// away: an EmbeddedChannel never closed is never freed (its pipeline points back at it).
    private final class Harness {
        let channel: EmbeddedChannel

        init(maximumLength: Int, detectTLS: Bool = false) {
            channel = EmbeddedChannel(
                handler: ByteToMessageHandler(
                    LineDecoder(maximumLength: maximumLength, detectTLSClientHello: detectTLS))
            )
        }

        deinit {
            _ = try? channel.finish(acceptAlreadyClosed: true)
        }

        func write(_ bytes: [UInt8]) throws {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        }

        func write(_ text: String) throws {
            try write(Array(text.utf8))
        }

        /// Everything decoded so far, lines as text.
        func events() throws -> [Event] {
            var events: [Event] = []
            while let event = try channel.readInbound(as: InboundLine.self) {
                switch event {
                case .line(let buffer): events.append(.line(String(buffer: buffer)))
                case .overlong: events.append(.overlong)
                case .tlsOnPlaintextPort: events.append(.tls)
                case .meant: Issue.record("the line decoder never says what a line is meant as")
                }
            }
            return events
        }

        /// Closes the input (EOF) and returns what the decoder produced at the end.
        func finish() throws -> [Event] {
            channel.pipeline.fireChannelInactive()
            return try events()
        }
    }

    enum Event: Equatable {
        case line(String)
        case overlong
        case tls
    }

    @Test("lines split on \\n and \\r\\n, all at once")
    func allAtOnce() throws {
        let harness = Harness(maximumLength: 100)
        try harness.write("one\ntwo\r\nthree\n\n")
        #expect(try harness.events() == [.line("one"), .line("two"), .line("three"), .line("")])
    }

    @Test("a line that arrives byte by byte is one line")
    func byteByByte() throws {
        let harness = Harness(maximumLength: 100)
        for byte in Array("hello world\r\nsecond\n".utf8) {
            try harness.write([byte])
        }
        #expect(try harness.events() == [.line("hello world"), .line("second")])
    }

    @Test("a line of exactly the maximum length is accepted, with either terminator")
    func exactlyMaximum() throws {
        let harness = Harness(maximumLength: 8)
        try harness.write("12345678\n12345678\r\n")
        #expect(try harness.events() == [.line("12345678"), .line("12345678")])
    }

    @Test("a line of maximum + 1 bytes is refused, the next line is fine", arguments: ["\n", "\r\n"])
    func maximumPlusOne(terminator: String) throws {
        let harness = Harness(maximumLength: 8)
        try harness.write("123456789" + terminator + "ok\n")
        #expect(try harness.events() == [.overlong, .line("ok")])
    }

    @Test("exactly the maximum with \\r\\n, streamed byte by byte, is accepted (the \\r is not counted)")
    func exactlyMaximumByteByByte() throws {
        let harness = Harness(maximumLength: 8)
        for byte in Array("12345678\r\n".utf8) { try harness.write([byte]) }
        #expect(try harness.events() == [.line("12345678")])
    }

    @Test("maximum + 1 bytes streamed byte by byte is refused too")
    func maximumPlusOneByteByByte() throws {
        let harness = Harness(maximumLength: 8)
        for byte in Array("123456789\nok\n".utf8) { try harness.write([byte]) }
        #expect(try harness.events() == [.overlong, .line("ok")])
    }

    @Test("an endless line is reported once and discarded as it streams; the line after it is fine")
    func overlongStreaming() throws {
        let harness = Harness(maximumLength: 16)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        try harness.write(chunk)
        #expect(try harness.events() == [.overlong])
        for _ in 0..<100 { try harness.write(chunk) }
        #expect(try harness.events() == [])
        try harness.write(Array("xxx\nafter\n".utf8))
        #expect(try harness.events() == [.line("after")])
    }

    @Test("an overlong line is reported before its newline arrives")
    func overlongNotBuffered() throws {
        let harness = Harness(maximumLength: 4)
        try harness.write("abcdef")
        #expect(try harness.events() == [.overlong])
        try harness.write("\nnext\n")
        #expect(try harness.events() == [.line("next")])
    }

    @Test("a last line without a newline is delivered at EOF")
    func lastLineAtEOF() throws {
        let harness = Harness(maximumLength: 100)
        try harness.write("first\nlast")
        #expect(try harness.events() == [.line("first")])
        #expect(try harness.finish() == [.line("last")])
    }

    @Test("a last line of exactly the maximum length (with \\r) is delivered at EOF")
    func lastLineMaximumAtEOF() throws {
        let harness = Harness(maximumLength: 4)
        try harness.write("abcd\r")
        #expect(try harness.finish() == [.line("abcd")])
    }

    @Test("a last line of maximum + 1 bytes at EOF is refused")
    func lastLineOverlongAtEOF() throws {
        let harness = Harness(maximumLength: 4)
        try harness.write("abcde")
        let events = try harness.finish()
        #expect(events == [.overlong])
    }

    @Test("an overlong last line being discarded at EOF produces nothing more")
    func discardingAtEOF() throws {
        let harness = Harness(maximumLength: 4)
        try harness.write("abcdefghij")
        #expect(try harness.events() == [.overlong])
        #expect(try harness.finish() == [])
    }

    @Test("a TLS ClientHello as first bytes is detected and swallowed")
    func tlsClientHello() throws {
        let harness = Harness(maximumLength: 100, detectTLS: true)
        // TLS record header: handshake (0x16), version 3.1, length; then ClientHello (0x01).
        try harness.write([0x16, 0x03, 0x01, 0x00, 0xF4, 0x01, 0x00, 0x00, 0xF0, 0x03, 0x03])
        #expect(try harness.events() == [.tls])
    }

    @Test("a TLS ClientHello split into single bytes is still detected from its first byte")
    func tlsClientHelloByteByByte() throws {
        let harness = Harness(maximumLength: 100, detectTLS: true)
        try harness.write([])
        #expect(try harness.events() == [])
        try harness.write([0x16])
        #expect(try harness.events() == [.tls])
    }

    @Test("after a TLS record at the start, later reads are swallowed too, however the stream is cut")
    func tlsSwallowsLaterReads() throws {
        // Found by LineDecoderProperties: [0x16, \n] in one read gave [.tls], in two reads [.tls, .line("")].
        let harness = Harness(maximumLength: 100, detectTLS: true)
        try harness.write([0x16])
        try harness.write("\nhello\n")
        #expect(try harness.events() == [.tls])
        #expect(try harness.finish() == [])
    }

    @Test("TLS detection looks only at the very first byte of the stream")
    func tlsOnlyAtStart() throws {
        let harness = Harness(maximumLength: 100, detectTLS: true)
        try harness.write("hi\n")
        try harness.write([0x16, 0x41, 0x0A])
        #expect(try harness.events() == [.line("hi"), .line("\u{16}A")])
    }

    @Test("without detection, 0x16 is ordinary data")
    func noDetection() throws {
        let harness = Harness(maximumLength: 100)
        try harness.write([0x16, 0x41, 0x0A])
        #expect(try harness.events() == [.line("\u{16}A")])
    }
}
