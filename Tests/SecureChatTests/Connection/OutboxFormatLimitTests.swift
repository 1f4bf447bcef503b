import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import SecureChat

/// A WebSocket client's outbox holds `Configuration.jsonOutboxBytes`, not `--outbox-bytes`: its longest lines
/// are longer, and one of them must never evict it where the same line would not evict a terminal user.
@Suite("Outbox: its limit follows the format its connection speaks")
struct OutboxFormatLimitTests {
    private static func outbox(limit: Int, jsonLimit: Int) -> Outbox {
        Outbox(
            channel: EmbeddedChannel(), limit: limit, jsonLimit: jsonLimit, writeTimeout: .seconds(5), counters: nil,
            log: ConnectionLog(plain: Logger(label: "outbox-limit-test")))
    }

    private static func bytes(_ count: Int) -> ByteBuffer {
        ByteBuffer(repeating: UInt8(ascii: "x"), count: count)
    }

    @Test("a line client overflows past the line limit; a JSON client only past its own")
    func limitFollowsFormat() {
        let line = Self.outbox(limit: 100, jsonLimit: 300)
        #expect(line.enqueue(Self.bytes(150)) == .overflow)

        let json = Self.outbox(limit: 100, jsonLimit: 300)
        json.speak(.json)
        #expect(json.format == .json)
        #expect(json.enqueue(Self.bytes(150)) != .overflow)
        #expect(json.enqueue(Self.bytes(150)) != .overflow)
        #expect(json.enqueue(Self.bytes(1)) == .overflow)
    }
}
