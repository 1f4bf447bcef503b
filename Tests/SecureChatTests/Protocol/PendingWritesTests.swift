import NIOCore
import Testing

@testable import SecureChat

@Suite("TLS pending writes: the first inline, the rest queued behind it")
struct PendingWritesTests {
    private static func write(_ text: String) -> PendingWrites.Write {
        (data: ByteBuffer(string: text), promise: nil)
    }

    private static func drain(_ writes: inout PendingWrites) -> [String] {
        var texts: [String] = []
        while let write = writes.popFirst() {
            texts.append(String(buffer: write.data))
        }
        return texts
    }

    @Test func writesComeOutInTheOrderTheyWentInWhetherInlineOrQueued() {
        var writes = PendingWrites()
        #expect(writes.count == 0)
        #expect(writes.popFirst() == nil)

        writes.append(Self.write("a"))
        #expect(writes.count == 1)
        #expect(Self.drain(&writes) == ["a"])

        for text in ["b", "c", "d", "e", "f", "g"] {
            writes.append(Self.write(text))
        }
        #expect(writes.count == 6)
        #expect(writes.popFirst().map { String(buffer: $0.data) } == "b")
        // Appended while the queue behind the first is not empty: it goes last, not inline.
        writes.append(Self.write("h"))
        #expect(writes.count == 6)
        #expect(Self.drain(&writes) == ["c", "d", "e", "f", "g", "h"])
        #expect(writes.count == 0)

        // After draining, the first write is inline again and still comes first.
        writes.append(Self.write("i"))
        writes.append(Self.write("j"))
        #expect(Self.drain(&writes) == ["i", "j"])
    }
}
