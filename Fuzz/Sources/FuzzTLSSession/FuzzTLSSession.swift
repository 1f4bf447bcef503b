import FuzzSupport
import NIOCore
import NIOEmbedded
import SecureChat

// A real client and server handler complete a handshake in memory; the input is then a program of steps that
// send real records (whole or cut into fragments), drop, flip or forge records, inject raw bytes, make the
// server reply, and close. Whatever happens, the server passes up only a prefix of what the real client sent
// (a tampered record must never yield plaintext), everything when nothing was tampered with, and keeps the
// one-error contract.

private enum Step: UInt8, CaseIterable {
    case record, fragments, drop, flip, forge, inject, reply, close
}

/// Plaintext the server writes back per `reply` step, so its output can be bounded.
private let replySize = 64

private struct Session {
    let client: TLSPeer
    let server: TLSPeer
    var sent: [UInt8] = []
    var tampered = false
    var serverOutput = 0

    init() {
        client = try! TLSPeer(context: TLSFixtures.clientContext, mode: .client(serverHostname: "localhost"))
        server = try! TLSPeer(context: TLSFixtures.serverContext, mode: .server)
        server.activate()
        client.activate()
        shuttle(client, server)
        require(client.recorder.handshakes == 1 && server.recorder.handshakes == 1, "no handshake")
        // The server's session tickets arrive after the handshake; they are not counted as replies.
        _ = server.takeOutbound()
    }

    /// Encrypts `text` on the real client and returns the ciphertext it would send.
    mutating func clientRecord(_ text: [UInt8]) -> [UInt8] {
        guard client.channel.isActive, !text.isEmpty else { return [] }
        client.channel.writeAndFlush(ByteBuffer(bytes: text), promise: nil)
        client.channel.embeddedEventLoop.run()
        sent += text
        return client.takeOutbound().flatMap { Array($0.readableBytesView) }
    }

    mutating func run(_ step: Step, _ input: inout FuzzInput) {
        switch step {
        case .record:
            server.receive(clientRecord(input.bytes(Int(input.byte()))))
        case .fragments:
            // One to three records back to back (the seed's top bits say how many more), cut anywhere: record
            // and read boundaries fall independently.
            var stream = clientRecord(input.bytes(Int(input.byte())))
            let seed = input.byte()
            for _ in 0..<(seed >> 6) % 3 { stream += clientRecord(input.bytes(Int(input.byte()))) }
            for chunk in Chunker.split(stream, seed: UInt64(seed)) { server.receive(chunk) }
        case .drop:
            // Lost records break the sequence numbers: what follows must fail, not decrypt.
            tampered = !clientRecord(input.bytes(Int(input.byte()) + 1)).isEmpty || tampered
        case .flip:
            var record = clientRecord(input.bytes(Int(input.byte()) + 1))
            if !record.isEmpty {
                let position = (Int(input.byte()) << 8 | Int(input.byte())) % record.count
                record[position] ^= input.byte() | 1
                tampered = true
            }
            server.receive(record)
        case .forge:
            // A record header of the fuzzer's choosing over a body of its choosing.
            let type = input.byte()
            let body = input.bytes(Int(input.byte()) << 2 | Int(input.byte() & 3))
            let length = Int(input.byte()) << 8 | Int(input.byte())
            server.receive([type, 0x03, 0x03, UInt8(length >> 8), UInt8(length & 0xFF)] + body)
            tampered = true
        case .inject:
            server.receive(input.bytes(Int(input.byte()) + 1))
            tampered = true
        case .reply:
            server.channel.writeAndFlush(ByteBuffer(repeating: UInt8(ascii: "r"), count: replySize), promise: nil)
            server.channel.embeddedEventLoop.run()
            for buffer in server.takeOutbound() {
                serverOutput += buffer.readableBytes
                client.receive(buffer.readableBytesView)
            }
            // What the client answers (alerts after a tampered exchange) goes back to the server.
            for buffer in client.takeOutbound() { server.receive(buffer.readableBytesView) }
        case .close:
            // Sends close_notify; the client then waits (on a timer) for the server's answer.
            client.channel.close(promise: nil)
            client.channel.embeddedEventLoop.run()
            for buffer in client.takeOutbound() { server.receive(buffer.readableBytesView) }
        }
        serverOutput += server.takeOutbound().reduce(0) { $0 + $1.readableBytes }
        server.checkErrorContract("after \(step)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var session = Session()
    var replies = 0
    for _ in 0..<64 where !input.isAtEnd && session.server.channel.isActive {
        let step = Step.allCases[Int(input.byte()) % Step.allCases.count]
        if step == .reply { replies += 1 }
        session.run(step, &input)
    }
    let received = session.server.recorder.received
    require(received.count <= session.sent.count, "the server received more than the client sent")
    require(Array(session.sent.prefix(received.count)) == received, "plaintext the client never sent")
    if !session.tampered {
        require(received == session.sent, "lost plaintext: \(received.count) of \(session.sent.count) bytes")
        require(session.server.recorder.errors.isEmpty, "error without tampering: \(session.server.recorder.errors)")
    }
    // Each reply is one record (payload, header, tag); the rest is alerts and close_notify.
    require(session.serverOutput <= replies * (replySize + 64) + 1024, "server wrote \(session.serverOutput) bytes")

    session.client.end()
    session.server.end()
    session.server.checkErrorContract("after the end")
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzTLSSession_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
