import NIOCore
import NIOPosix
import Testing

@testable import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

/// The socket writer over a real loopback connection: what the kernel takes goes out at once, what it does not goes
/// through NIO, and the peer gets every byte once and in order either way.
@Suite struct SocketWriterTests {
    /// A NIO channel over the server side of a fresh loopback pair, with a `SocketWriter` as its first handler, and
    /// the client side's descriptor, which the test reads with blocking calls. Small socket buffers, so that a
    /// peer that does not read fills them after a few kilobytes.
    private static func withWriter(
        _ body: (any Channel, SocketWriter, CInt) async throws -> Void
    ) async throws {
        try await withEventLoopGroup { group in
            let (server, client) = try RawSocket.loopbackPair()
            defer { close(client) }
            RawSocket.setBufferSize(SO_SNDBUF, of: server, to: 4096)
            RawSocket.setBufferSize(SO_RCVBUF, of: client, to: 4096)
            let writer = SocketWriter(socket: server)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(writer) }
                }
                .withConnectedSocket(server)
                .get()
            do {
                try await body(channel, writer, client)
            } catch {
                try? await channel.close()
                throw error
            }
            try? await channel.close()
        }
    }

    /// Nil when `received` is `expected`; otherwise where they part, short enough to read in a failure.
    private static func difference(_ received: [UInt8], _ expected: [UInt8]) -> String? {
        if received == expected { return nil }
        let got = String(decoding: received, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let wanted = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let index = (0..<min(got.count, wanted.count)).first { got[$0] != wanted[$0] } ?? min(got.count, wanted.count)
        let gotLine = index < got.count ? got[index].prefix(12) : "(end)"
        let wantedLine = index < wanted.count ? wanted[index].prefix(12) : "(end)"
        return "\(received.count) of \(expected.count) bytes; line \(index) is \"\(gotLine)…\", not \"\(wantedLine)…\""
    }

    private static func lines(_ range: Range<Int>) -> [String] {
        range.map { "line \($0) " + String(repeating: "x", count: 90) + "\n" }
    }

    @Test("a write the kernel takes whole is out when its promise completes")
    func aWholeWriteIsOut() async throws {
        try await Self.withWriter { channel, _, client in
            try await channel.writeAndFlush(ByteBuffer(string: "hello\n")).get()
            #expect(String(decoding: RawSocket.read(client, count: 6), as: UTF8.self) == "hello\n")
        }
    }

    @Test(
        "what a full socket buffer does not take is held by NIO (which makes the channel unwritable), and every byte arrives once, in order, before and after"
    )
    func aFullSocketHandsTheRestToNIOInOrder() async throws {
        try await Self.withWriter { channel, _, client in
            // 200 kB while the peer reads nothing: the kernel takes a few kilobytes, NIO holds the rest.
            let first = Self.lines(0..<2000)
            let written = first.map { channel.writeAndFlush(ByteBuffer(string: $0)) }
            let writableWhileFull = try await channel.eventLoop.submit { channel.isWritable }.get()
            #expect(!writableWhileFull, "NIO holds what the kernel did not take, past its high-water mark")

            let expected = Array(first.joined().utf8)
            let received = RawSocket.read(client, count: expected.count)
            #expect(Self.difference(received, expected) == nil)
            for future in written { try await future.get() }
            #expect(try await channel.eventLoop.submit { channel.isWritable }.get())

            // NIO has written all it held: what follows goes straight out again, after it.
            let second = Self.lines(2000..<2100)
            for line in second { channel.write(ByteBuffer(string: line), promise: nil) }
            try await channel.writeAndFlush(ByteBuffer(string: "end\n")).get()
            let rest = Array((second.joined() + "end\n").utf8)
            #expect(Self.difference(RawSocket.read(client, count: rest.count), rest) == nil)
        }
    }

    @Test(
        "while the peer reads slowly and NIO holds a backlog, no write overtakes it, though the socket has room by then"
    )
    func noWriteOvertakesWhatNIOHolds() async throws {
        try await Self.withWriter { channel, _, client in
            let all = Self.lines(0..<3000)
            let expected = Array(all.joined().utf8)
            // The peer reads in small pieces as the writes go on, so the socket keeps having room for a moment
            // while NIO still holds lines it could not write before.
            let reading = RawSocket.readInBackground(client, count: expected.count, pieceSize: 1024)
            for start in stride(from: 0, to: all.count, by: 20) {
                let chunk = all[start..<min(start + 20, all.count)]
                try await channel.eventLoop.submit {
                    for line in chunk { channel.writeAndFlush(ByteBuffer(string: line), promise: nil) }
                }.get()
                await Task.yield()
            }
            let received = await reading.value
            #expect(Self.difference(received, expected) == nil)
        }
    }

    @Test("lines the outbox writes directly and lines that come down the pipeline keep one order")
    func directAndPipelineWritesKeepOneOrder() async throws {
        try await Self.withWriter { channel, writer, client in
            let all = Self.lines(0..<600)
            try await channel.eventLoop.submit {
                for (index, line) in all.enumerated() {
                    if index.isMultiple(of: 2) {
                        writer.write(ByteBuffer(string: line), promise: nil)
                        writer.flush()
                    } else {
                        channel.writeAndFlush(ByteBuffer(string: line), promise: nil)
                    }
                }
            }.get()
            let expected = Array(all.joined().utf8)
            #expect(Self.difference(RawSocket.read(client, count: expected.count), expected) == nil)
        }
    }

    @Test("once the channel has closed, a direct write fails and nothing more reaches the peer")
    func writesAfterCloseFail() async throws {
        try await Self.withWriter { channel, writer, client in
            try await channel.writeAndFlush(ByteBuffer(string: "last\n")).get()
            try await channel.close()
            let late = try await channel.eventLoop.submit { () -> EventLoopFuture<Void> in
                let promise = channel.eventLoop.makePromise(of: Void.self)
                writer.write(ByteBuffer(string: "too late\n"), promise: promise)
                writer.flush()
                return promise.futureResult
            }.get()
            await #expect(throws: ChannelError.self) { try await late.get() }
            // "last", then the end of the stream.
            #expect(String(decoding: RawSocket.read(client, count: 100), as: UTF8.self) == "last\n")
        }
    }
}
