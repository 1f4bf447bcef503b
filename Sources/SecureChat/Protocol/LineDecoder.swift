import NIOCore

/// What the line decoder hands up the pipeline: a complete line, or the news that an over-long one was dropped.
public enum InboundLine: Sendable, Equatable {
    /// One line without its terminator (`\n` or `\r\n`).
    case line(ByteBuffer)
    /// A line that a typed request says is meant as a name or a password (a WebSocket's `login` or `password`):
    /// what a typed line cannot say. Only the WebSocket codec makes these.
    case meant(ByteBuffer, as: LineRole)
    /// A line grew past the limit. Its bytes were discarded as they arrived, up to and including its newline.
    case overlong
    /// The first bytes of a plaintext connection were a TLS handshake record: the client dialled the wrong port.
    case tlsOnPlaintextPort
}

/// Splits a byte stream into lines of at most `maximumLength` bytes.
///
/// A longer line is never held whole: once the limit is passed, the decoder reports `.overlong` once and then
/// throws bytes away until the next newline, so a client sending an endless line costs at most `maximumLength`
/// bytes of buffer.
public struct LineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = InboundLine

    /// The decoder's name in a pipeline: a connection that turns out to speak HTTP loses it
    /// (`WebRequestHandler.install`).
    static let handlerName = "line-decoder"

    private let maximumLength: Int
    private let lastLineNeedsCleanEnd: Bool
    private var discarding = false
    private var firstBytesChecked: Bool
    /// The stream began with a TLS record: nothing after it is a line. Without this, bytes that came in a later
    /// read than the record were decoded as lines while the same bytes in the record's read were dropped, so
    /// the events depended on how the network cut the stream (found by `LineDecoderProperties`).
    private var sawTLSRecord = false
    /// How far into the buffer we already searched for a newline, so a line that trickles in byte by byte is
    /// scanned once, not quadratically.
    private var scanned = 0

    /// - Parameters:
    ///   - maximumLength: the longest line accepted, in bytes, without its terminator.
    ///   - detectTLSClientHello: report a TLS handshake record at the very start of the stream.
    ///   - lastLineNeedsCleanEnd: pass on a last line without newline only if the stream ended cleanly: the
    ///     layer below announced `ChannelEvent.inputClosed` while the channel was still open, as
    ///     ``OpenSSLHandler`` does after the peer's close_notify. For TLS: a connection cut without
    ///     close_notify may have been cut by anyone on the path, at any byte, and the fragment must not run
    ///     as a whole line or command. Plaintext (`false`) cannot tell the two apart and keeps the fragment.
    public init(maximumLength: Int, detectTLSClientHello: Bool = false, lastLineNeedsCleanEnd: Bool = false) {
        precondition(maximumLength > 0)
        self.maximumLength = maximumLength
        self.firstBytesChecked = !detectTLSClientHello
        self.lastLineNeedsCleanEnd = lastLineNeedsCleanEnd
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if self.sawTLSRecord {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        if !self.firstBytesChecked {
            guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMoreData }
            self.firstBytesChecked = true
            // 0x16 is the TLS handshake content type; no chat client starts a session with that control byte.
            if first == 0x16 {
                self.sawTLSRecord = true
                buffer.moveReaderIndex(to: buffer.writerIndex)
                context.fireChannelRead(Self.wrapInboundOut(.tlsOnPlaintextPort))
                return .needMoreData
            }
        }
        let view = buffer.readableBytesView
        let searchStart = view.startIndex + self.scanned
        if let newline = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            self.scanned = 0
            if self.discarding {
                self.discarding = false
                buffer.moveReaderIndex(forwardBy: length + 1)
                return .continue
            }
            if length > self.maximumLength + 1 {  // +1: a trailing \r is not part of the line
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(Self.wrapInboundOut(.overlong))
                return .continue
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            if line.readableBytes > self.maximumLength {
                context.fireChannelRead(Self.wrapInboundOut(.overlong))
                return .continue
            }
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
            return .continue
        }
        if self.discarding {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            self.scanned = 0
            return .needMoreData
        }
        if view.count > self.maximumLength + 1 {
            self.discarding = true
            self.scanned = 0
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(Self.wrapInboundOut(.overlong))
            return .needMoreData
        }
        self.scanned = view.count
        return .needMoreData
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // A last line without a newline is still a line: `printf 'hi' | nc` should deliver "hi". Unless it
        // must end cleanly and did not: `inputClosed` from below comes while the channel is still active,
        // `channelInactive` (the connection simply went away) when it no longer is.
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        let keepFragment = !self.lastLineNeedsCleanEnd || context.channel.isActive
        if keepFragment, !self.discarding, buffer.readableBytes > 0,
            let rest = buffer.readSlice(length: buffer.readableBytes)
        {
            var line = rest
            if line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            let event: InboundLine = line.readableBytes > self.maximumLength ? .overlong : .line(line)
            context.fireChannelRead(Self.wrapInboundOut(event))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
