import NIOCore

/// The receive-buffer policy of client connections: a fresh, adaptively sized buffer for every read, so an
/// idle connection holds no receive buffer.
///
/// Why not NIO's default: a socket channel keeps its receive buffers in a per-channel pool
/// (`NIOPooledRecvBufferAllocator`, up to `maxMessagesPerRead` of them) for the channel's whole life, at the
/// largest size any read ever needed: 2 KiB for a connection that only logged in, up to 4 x 64 KiB for one
/// that once sent a burst. For a chat server whose connections idle for hours that dominates their memory.
///
/// How: `nextBufferSize()` returns `nil` and `record` always answers "may grow", which makes the pool
/// allocate a new buffer per read instead of reusing one. The pool still keeps the very first buffer it
/// allocates (it never lets go of that one), so the first read gets a small buffer; after that, sizes adapt
/// as NIO's `AdaptiveRecvByteBufferAllocator` decides. Use with `ChannelOptions.maxMessagesPerRead` 1: with a
/// larger value the pool keeps up to that many buffers.
///
/// The cost is one allocation per read, which the reads of a line protocol dwarf (and which the default
/// pays too whenever a handler still holds the previous buffer, e.g. a partial line).
struct IdleFriendlyRecvAllocator: RecvByteBufferAllocator {
    /// Capacity of the first read's buffer: the one the channel's pool keeps for good.
    static let firstReadCapacity = 128

    private var adaptive: AdaptiveRecvByteBufferAllocator
    private var firstRead = true

    init(adaptive: AdaptiveRecvByteBufferAllocator = AdaptiveRecvByteBufferAllocator()) {
        self.adaptive = adaptive
    }

    func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        if firstRead {
            return allocator.buffer(capacity: Self.firstReadCapacity)
        }
        return adaptive.buffer(allocator: allocator)
    }

    func nextBufferSize() -> Int? {
        nil
    }

    mutating func record(actualReadBytes: Int) -> Bool {
        firstRead = false
        _ = adaptive.record(actualReadBytes: actualReadBytes)
        return true
    }
}
