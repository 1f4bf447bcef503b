import NIOCore

/// Writes a handler holds before passing them on, oldest first: ``OpenSSLHandler``'s before OpenSSL takes them,
/// `SocketWriter`'s until the flush that sends them.
///
/// A chat connection almost always has at most one: the outbox coalesces a batch into one buffer and flushes it,
/// and the handler passes it on at once. So the oldest write is stored inline, and the queue behind it is made only
/// when a second write arrives before the first has gone (writes before the handshake ends, or several writes per
/// flush). A `CircularBuffer` made up front costs every idle connection its storage (160 bytes) for good; this
/// costs nothing until it is needed, and once made the queue is kept, so a busy connection does not allocate per
/// write.
struct PendingWrites {
    typealias Write = (data: ByteBuffer, promise: EventLoopPromise<Void>?)

    private var first: Write?
    private var rest: CircularBuffer<Write>?

    var count: Int {
        (self.first == nil ? 0 : 1) + (self.rest?.count ?? 0)
    }

    mutating func append(_ write: Write) {
        if self.first == nil {
            // `rest` is empty whenever `first` is: `popFirst` refills `first` from it.
            self.first = write
        } else if self.rest == nil {
            var rest = CircularBuffer<Write>(initialCapacity: 4)
            rest.append(write)
            self.rest = rest
        } else {
            self.rest!.append(write)
        }
    }

    mutating func popFirst() -> Write? {
        guard let write = self.first else {
            return nil
        }
        self.first = self.rest?.popFirst()
        return write
    }
}
