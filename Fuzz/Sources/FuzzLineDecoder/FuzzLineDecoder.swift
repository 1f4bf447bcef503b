import FuzzSupport
import NIOCore
import NIOEmbedded
import SecureChat

// Input: one options byte (bit 0: detect a TLS ClientHello, bit 1: the last line needs a clean end, bit 2: the
// stream ends cleanly), one chunking seed byte, then the stream. The stream is decoded whole, in seeded
// chunks and (when short) byte by byte; all three must give the events of a simple reference model.

private let maximumLength = 64

private enum Event: Equatable {
    case line([UInt8])
    case overlong
    case tlsOnPlaintextPort
}

private final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = InboundLine
    var events: [Event] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .line(let buffer): events.append(.line(Array(buffer.readableBytesView)))
        case .overlong: events.append(.overlong)
        case .tlsOnPlaintextPort: events.append(.tlsOnPlaintextPort)
        case .meant: require(false, "the line decoder never says what a line is meant as")
        }
    }
}

private struct Options {
    var detectTLS: Bool
    var lastLineNeedsCleanEnd: Bool
    var endsCleanly: Bool
}

private func decode(_ chunks: [ArraySlice<UInt8>], _ options: Options) -> [Event] {
    let recorder = EventRecorder()
    let decoder = LineDecoder(
        maximumLength: maximumLength,
        detectTLSClientHello: options.detectTLS,
        lastLineNeedsCleanEnd: options.lastLineNeedsCleanEnd
    )
    let channel = EmbeddedChannel()
    try! channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(decoder), recorder])
    channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 1), promise: nil)
    for chunk in chunks {
        try! channel.writeInbound(ByteBuffer(bytes: chunk))
    }
    if options.endsCleanly {
        // What OpenSSLHandler announces after the peer's close_notify, while the channel is still open.
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }
    _ = try! channel.finish(acceptAlreadyClosed: true)
    return recorder.events
}

/// What the decoder must report, computed without any buffering: split at every `\n`, drop one trailing `\r`.
private func expectedEvents(_ stream: [UInt8], _ options: Options) -> [Event] {
    if options.detectTLS, stream.first == 0x16 {
        // The connection is refused; nothing after the handshake record may pass as a line.
        return [.tlsOnPlaintextPort]
    }
    var events: [Event] = []
    var segments = stream.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    let fragment = segments.removeLast()
    for segment in segments {
        let line = segment.last == UInt8(ascii: "\r") ? segment.dropLast() : segment
        events.append(line.count > maximumLength ? .overlong : .line(Array(line)))
    }
    // A fragment that outgrew the limit plus a possible `\r` was reported as it arrived, whatever the ending.
    if fragment.count > maximumLength + 1 {
        events.append(.overlong)
    } else if !fragment.isEmpty, !options.lastLineNeedsCleanEnd || options.endsCleanly {
        let line = fragment.last == UInt8(ascii: "\r") ? fragment.dropLast() : fragment
        events.append(line.count > maximumLength ? .overlong : .line(Array(line)))
    }
    return events
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let options = Options(detectTLS: flags & 1 != 0, lastLineNeedsCleanEnd: flags & 2 != 0, endsCleanly: flags & 4 != 0)
    let seed = UInt64(input.byte())
    let stream = input.rest()

    let expected = expectedEvents(stream, options)
    let whole = decode([stream[...]], options)
    for case .line(let line) in whole {
        require(line.count <= maximumLength, "a line of \(line.count) bytes passed the limit")
        require(!line.contains(UInt8(ascii: "\n")), "a line holds a newline")
    }
    require(whole == expected, "whole stream: \(whole) but the model says \(expected)")
    let chunked = decode(Chunker.split(stream, seed: seed), options)
    require(chunked == whole, "chunking changed the events: \(chunked) vs \(whole)")
    if stream.count <= 256 {
        let bytewise = decode(stream.map { [$0][...] }, options)
        require(bytewise == whole, "byte by byte changed the events: \(bytewise) vs \(whole)")
    }
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzLineDecoder_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
