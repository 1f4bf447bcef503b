import Foundation
import FuzzSupport
import NIOCore
import NIOEmbedded
import SecureChat

// A server-side OpenSSLHandler fed arbitrary bytes as a client would send them (first byte: chunking seed).
// It must never crash, must end in exactly one TLSError and a closed channel or keep waiting with none,
// never pass plaintext up before a handshake, and answer with bounded output. A connection still open after
// the input is then fed the same bytes again and again, 1 MiB in all, and the heap must not grow by more than
// what a handshake can legitimately hold.

/// More than the server's whole first flight (certificate chain included) could ever need.
private let outputLimit = 64 * 1024

/// What a peer that keeps sending more of the same is fed in all, in reads of about 16 KiB.
private let repeatedInput = 1024 * 1024

/// Heap growth allowed while that is fed: OpenSSL holds at most one ClientHello (its limit is 128 KiB, in a
/// buffer that grows by doubling) and one record (16 KiB and change); the rest is slack for NIO's buffers.
private let heapGrowthLimit = 512 * 1024

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?)
    -> CInt
{
    // `fuzz/run.sh` asks for a real ClientHello to seed the corpus: write it and stop.
    if let target = ProcessInfo.processInfo.environment["SECURECHAT_FUZZ_WRITE_CLIENT_HELLO"] {
        try! Data([0] + TLSFixtures.clientHello()).write(to: URL(fileURLWithPath: target))
        exit(0)
    }
    _ = TLSFixtures.serverContext
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let seed = UInt64(input.byte())
    let server = try! TLSPeer(context: TLSFixtures.serverContext, mode: .server)
    server.activate()
    var output = 0
    let stream = input.rest()
    for chunk in Chunker.split(stream, seed: seed) {
        server.receive(chunk)
        output += server.takeOutbound().reduce(0) { $0 + $1.readableBytes }
        server.checkErrorContract("mid-stream")
    }
    if server.channel.isActive, !stream.isEmpty {
        // Never grow without bound: the same bytes again until 1 MiB has gone in, or the server gives up.
        let block = Array(repeatElement(stream, count: max(1, 16 * 1024 / stream.count)).joined())
        let before = liveHeapBytes()
        var fed = 0
        while fed < repeatedInput, server.channel.isActive {
            server.receive(block)
            fed += block.count
            output += server.takeOutbound().reduce(0) { $0 + $1.readableBytes }
            server.checkErrorContract("repeated input")
            let growth = liveHeapBytes() - before
            require(growth <= heapGrowthLimit, "the heap grew by \(growth) bytes after \(fed) more bytes of input")
        }
    }
    require(output <= outputLimit, "the server wrote \(output) bytes")
    require(server.recorder.handshakes == 0, "a handshake completed without a client key")
    require(server.recorder.received.isEmpty, "plaintext passed up before any handshake")
    require(server.channel.isActive == server.recorder.errors.isEmpty, "closed without an error, or the reverse")

    // The client goes away: a handshake still in progress ends with its one error, timers run out harmlessly.
    server.end()
    require(server.recorder.errors.count == 1, "errors after the end: \(server.recorder.errors)")
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzTLSServer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
