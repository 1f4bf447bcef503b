import NIOCore
import NIOEmbedded
import PropertyBased
import SecureChat
import Testing

/// Properties of `LineDecoder` over random byte streams, cut into random chunks.
@Suite("LineDecoder properties")
struct LineDecoderProperties {
    /// What the decoder produced, lines as bytes.
    enum Event: Equatable, CustomStringConvertible {
        case line([UInt8])
        case overlong
        case tls

        var description: String {
            switch self {
            case .line(let bytes): return "line(\(bytes))"
            case .overlong: return "overlong"
            case .tls: return "tls"
            }
        }
    }

    /// Random bytes where newlines, carriage returns and the TLS record byte are common enough to matter.
    static let stream = Gen<UInt8>.value(in: 0...255).array(of: 0...160).map { raw in
        raw.map { byte -> UInt8 in
            switch byte % 16 {
            case 0, 1: return UInt8(ascii: "\n")
            case 2: return UInt8(ascii: "\r")
            case 3: return 0x16
            default: return byte
            }
        }
    }

    /// Feeds `bytes` to a fresh decoder in chunks of the given sizes (cycled), then ends the input.
    static func decode(
        _ bytes: [UInt8],
        chunks: [Int],
        maximumLength: Int,
        detectTLS: Bool
    ) throws -> [Event] {
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(
                LineDecoder(maximumLength: maximumLength, detectTLSClientHello: detectTLS)
            )
        )
        // Never closed, an EmbeddedChannel is never freed (its pipeline points back at it).
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        var offset = 0
        var chunk = 0
        while offset < bytes.count {
            let size = min(chunks.isEmpty ? bytes.count : chunks[chunk % chunks.count], bytes.count - offset)
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<(offset + size)]))
            offset += size
            chunk += 1
        }
        channel.pipeline.fireChannelInactive()
        var events: [Event] = []
        while let event = try channel.readInbound(as: InboundLine.self) {
            switch event {
            case .line(let buffer): events.append(.line(Array(buffer.readableBytesView)))
            case .overlong: events.append(.overlong)
            case .tlsOnPlaintextPort: events.append(.tls)
            case .meant: Issue.record("the line decoder never says what a line is meant as")
            }
        }
        return events
    }

    @Test("no line is longer than the limit, and the events do not depend on the chunking")
    func chunkingDoesNotMatter() async {
        await propertyCheck(
            count: 200,
            input: Self.stream,
            Gen.int(in: 1...20).array(of: 1...12),
            Gen.int(in: 1...12),
            Gen.bool
        ) { bytes, chunks, maximumLength, detectTLS in
            let whole = try Self.decode(bytes, chunks: [], maximumLength: maximumLength, detectTLS: detectTLS)
            let chunked = try Self.decode(bytes, chunks: chunks, maximumLength: maximumLength, detectTLS: detectTLS)
            let byteByByte = try Self.decode(bytes, chunks: [1], maximumLength: maximumLength, detectTLS: detectTLS)
            #expect(chunked == whole)
            #expect(byteByByte == whole)
            for case .line(let line) in whole + chunked + byteByByte {
                #expect(line.count <= maximumLength)
            }
        }
    }
}
