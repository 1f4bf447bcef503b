import NIOCore
import Testing

@testable import ChatBenchCore

@Suite("Payload encoding and line parsing")
struct PayloadAndLineTests {
    @Test func payloadRoundTripsAndIsPaddedToSize() {
        var buffer = ByteBuffer()
        let payload = BenchPayload(sender: 12, sequence: 999, sentNanoseconds: 123_456_789_012)
        payload.write(into: &buffer, size: 64)
        #expect(buffer.readableBytes == 65)  // 64 bytes of text and the newline
        let parsed = buffer.withUnsafeReadableBytes {
            BenchPayload.parse(UnsafeRawBufferPointer(rebasing: $0.dropLast()))
        }
        #expect(parsed == payload)
    }

    @Test func payloadLongerThanSizeIsNotCut() {
        var buffer = ByteBuffer()
        BenchPayload(sender: 0, sequence: 0, sentNanoseconds: 0).write(into: &buffer, size: 1)
        #expect(String(buffer: buffer) == "0 0 0 \n")
    }

    @Test func foreignTextIsNotAPayload() {
        for text in ["hello world", "1 2", "", "12 x 3 "] {
            let parsed = Array(text.utf8).withUnsafeBytes { BenchPayload.parse($0) }
            #expect(parsed == nil, "\(text)")
        }
    }

    @Test(arguments: [
        ("* Choose a username (1-24 characters: letters, digits, _ and -):", ServerLineKind.prompt),
        ("* Welcome, bob! You are in #lobby with 0 others.", .welcome),
        ("* Welcome to SecureChat.", .notice),
        ("* pong", .pong),
        ("* bob joined #lobby", .notice),
        ("! Unknown command", .error),
        ("[12:00:00] bob: hi", .other),
        ("bob: 1 2 3 xx", .chat(textOffset: 5)),
        ("no colon here", .other),
    ])
    func classifiesServerLines(line: String, kind: ServerLineKind) {
        let got = Array(line.utf8).withUnsafeBytes { ServerLineKind.classify($0) }
        #expect(got == kind)
    }

    @Test func splitterJoinsLinesAcrossReadsAndStripsCarriageReturns() {
        var splitter = LineSplitter()
        var lines: [String] = []
        for chunk in ["a\nb", "c\r", "\nd", "", "e\n\n"] {
            splitter.feed(ByteBuffer(string: chunk)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        }
        #expect(lines == ["a", "bc", "de", ""])
    }

    @Test func splitterCapsACarriedLine() {
        var splitter = LineSplitter(maximumLength: 4)
        var lines: [String] = []
        splitter.feed(ByteBuffer(string: "abcdefgh")) { lines.append(String(decoding: $0, as: UTF8.self)) }
        splitter.feed(ByteBuffer(string: "ij\nk\n")) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["abcd", "k"])
    }
}
