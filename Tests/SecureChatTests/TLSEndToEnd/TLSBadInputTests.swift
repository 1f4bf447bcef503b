import NIOCore
import SecureChat
import Testing

/// What a raw TCP client sends to the TLS port before going quiet.
enum StalledInput: String, CaseIterable, Sendable, CustomStringConvertible {
    case nothing = "nothing at all"
    case halfAClientHello = "the first 50 bytes of a real ClientHello"
    case shortPlaintextLine = "a plaintext line shorter than a record header"

    var description: String { rawValue }

    func bytes() throws -> [UInt8] {
        switch self {
        case .nothing: return []
        case .halfAClientHello: return Array(try TLSClientHelloBytes.real().prefix(50))
        case .shortPlaintextLine: return Array("hi\n".utf8)
        }
    }
}

/// Bytes no TLS server can take for a handshake.
enum BadHandshakeInput: String, CaseIterable, Sendable, CustomStringConvertible {
    case garbage = "garbage bytes"
    case plaintextChatLine = "a plaintext chat line"
    case httpRequest = "an HTTP request"
    case oversizedRecord = "a handshake record header claiming 65535 bytes"
    case clientHelloThenGarbage = "a ClientHello followed by garbage records"

    var description: String { rawValue }

    func bytes() throws -> [UInt8] {
        switch self {
        case .garbage:
            // Deterministic noise that starts like nothing TLS knows.
            return (0..<256).map { UInt8(truncatingIfNeeded: ($0 &* 97) &+ 13) }
        case .plaintextChatLine:
            return Array("alice\n".utf8)
        case .httpRequest:
            return Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        case .oversizedRecord:
            return [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 64)
        case .clientHelloThenGarbage:
            return try TLSClientHelloBytes.real() + [0x17, 0x03, 0x03, 0x00, 0x20] + [UInt8](repeating: 0xAB, count: 32)
        }
    }
}

@Suite("Hostile or confused peers on the TLS port", .timeLimit(.minutes(2)))
struct TLSBadInputTests {
    @Test(
        "a peer that stalls before finishing the handshake is closed at the login timeout",
        arguments: StalledInput.allCases)
    func stalledHandshakeIsClosedAtTheLoginTimeout(input: StalledInput) async throws {
        // Short, but long enough that the check below logs in comfortably within it on a loaded machine (and in a
        // sanitized build, which is slower, scaled).
        try await withTestServer({ $0.loginTimeout = SanitizedBuild.scaled(.seconds(6)) }) { server in
            let stalled = try await RawConnection.connect(port: server.tlsPort)
            let bytes = try input.bytes()
            if !bytes.isEmpty { try await stalled.send(bytes) }
            // While it hangs there, others are served.
            try await expectServerStillServes(server, tag: "during")

            let received = try await stalled.waitForServerClose()
            // Nothing, or at most a TLS alert (content type 21): never plaintext.
            #expect(received.isEmpty || received.first == 0x15, "server sent \(received.prefix(16))")
            try await eventually("the login timeout and the failed handshake to be counted") {
                server.server.counters[.loginTimeout] >= 1 && server.server.counters[.tlsHandshakeFailed] >= 1
            }
            #expect(server.server.counters[.tlsHandshakeCompleted] == 1)  // only the check's TLS client
            try await expectServerStillServes(server, tag: "after")
        }
    }

    @Test(
        "bytes that are not a TLS handshake are refused at once (not at the timeout)",
        arguments: BadHandshakeInput.allCases)
    func badHandshakeBytesAreRefused(input: BadHandshakeInput) async throws {
        // The default 30 s login timeout is longer than the failsafe wait: the close must come from the failed
        // handshake itself.
        try await withTestServer { server in
            let peer = try await RawConnection.connect(port: server.tlsPort)
            try await peer.send(try input.bytes())
            let received = try await peer.waitForServerClose()
            // For a ClientHello the server's first flight comes back; otherwise nothing or an alert. Never plain text.
            let firstByte = received.first
            #expect(firstByte == nil || firstByte == 0x15 || firstByte == 0x16, "server sent \(received.prefix(16))")
            #expect(!String(decoding: received, as: UTF8.self).contains("SecureChat"))
            try await eventually("the failed handshake to be counted") {
                server.server.counters[.tlsHandshakeFailed] == 1
            }
            #expect(server.server.counters[.loginTimeout] == 0)
            try await expectServerStillServes(server, tag: "after")
        }
    }

    @Test("a TLS user that never picks a name is closed at the login timeout")
    func handshakeWithoutLoginIsClosedAtTheLoginTimeout() async throws {
        // The check at the end logs in a TLS client within the same timeout.
        try await withTestServer({ $0.loginTimeout = SanitizedBuild.scaled(.seconds(6)) }) { server in
            let silent = try await TestClient.connect(port: server.tlsPort, tls: .plain)
            let lines = try await silent.readToEnd()
            #expect(lines.contains { $0.hasPrefix("* Choose a username") })
            #expect(server.server.counters[.loginTimeout] == 1)
            #expect(server.server.counters[.tlsHandshakeCompleted] == 1)
            await silent.close()
            try await expectServerStillServes(server, tag: "after")
        }
    }

    @Test("corrupt records after the handshake end that session only; the room sees the user leave")
    func garbageAfterTheHandshakeEndsTheSession() async throws {
        try await withTestServer { server in
            let victim = try await TestClient.loggedIn("victim", port: server.tlsPort, tls: .plain)
            let witness = try await TestClient.loggedIn("witness", port: server.port)
            try await victim.readUntil { $0 == "* witness joined #lobby" }
            // Write below the client's TLS handler: a forged application-data record the server cannot decrypt.
            let channel = victim.channel
            try await channel.eventLoop.flatSubmit {
                do {
                    let context = try channel.pipeline.syncOperations.context(handlerType: OpenSSLHandler.self)
                    let forged = ByteBuffer(
                        bytes: [0x17, 0x03, 0x03, 0x00, 0x40] + [UInt8](repeating: 0x5A, count: 64))
                    return context.writeAndFlush(NIOAny(forged))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }.get()
            _ = try await victim.readToEnd()
            try await witness.readUntil { $0.hasPrefix("* victim left #lobby") }
            try await expectServerStillServes(server, tag: "after")
            await witness.close()
        }
    }
}
