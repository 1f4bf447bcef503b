import Foundation
import FuzzSupport
import NIOCore
import NIOEmbedded
import SecureChat

// A server-side OpenSSLHandler fed arbitrary bytes as a client would send them (first byte: chunking seed).
// It must never crash, must end in exactly one TLSError and a closed channel or keep waiting with none,
// never pass plaintext up before a handshake, and answer with bounded output.

/// More than the server's whole first flight (certificate chain included) could ever need.
private let outputLimit = 64 * 1024

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
    for chunk in Chunker.split(input.rest(), seed: seed) {
        server.receive(chunk)
        output += server.takeOutbound().reduce(0) { $0 + $1.readableBytes }
        server.checkErrorContract("mid-stream")
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
