import COpenSSL
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import SecureChat

/// Peers that make TLS itself do the work: TLS 1.3 KeyUpdate floods and TLS 1.2 renegotiation (issue 11,
/// point 2). Measured on a separately started `securechatd`, whose memory no other test disturbs.
/// Keeps the errors a server-side TLS handler reports, for a test on another thread to read.
private final class TLSErrorLog: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let errors = NIOLockedValueBox<[TLSError]>([])

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TLSError {
            self.errors.withLockedValue { $0.append(error) }
        }
        context.fireErrorCaught(error)
    }
}

@Suite("TLS abuse: KeyUpdate floods and renegotiation", .serialized, .timeLimit(.minutes(3)))
struct TLSAbuseTests {
    struct FloodOutcome: Sendable {
        let pairsSent: Int
        let serverClosed: Bool
        /// What the server had sent (and we never read) by the end: its answers, buffered in the kernel.
        let bytesUnread: Int
    }

    /// KeyUpdate(update_requested) then one byte, again and again, never reading: the reproduction.
    /// Bounded by time and count, so without the fix the test ends (and fails) instead of flooding forever.
    static func flood(_ client: RawTLSClient, seconds: Double, maximumPairs: Int) -> FloodOutcome {
        let deadline = Date().addingTimeInterval(seconds)
        var sent = 0
        while sent < maximumPairs, Date() < deadline {
            guard client.requestKeyUpdate(), client.write("x") else {
                break
            }
            sent += 1
            if sent % 64 == 0, !client.flush() {
                break
            }
        }
        client.flush()
        let end = client.drainUntilServerCloses()
        return FloodOutcome(pairsSent: sent, serverClosed: end.closed, bytesUnread: end.bytes)
    }

    @Test func aKeyUpdateFloodIsDisconnectedAndCostsTheServerLittleMemory() async throws {
        let set = TestCertificates.set
        try await withDaemon(
            arguments: [
                "--cert", set.certificatePath, "--key", set.privateKeyPath,
                // Only the TLS layer may end this connection, not the login timer.
                "--login-timeout", "600", "--log-level", "notice",
            ], environment: SanitizedBuild.memoryMeasuredChildEnvironment
        ) { daemon in
            let port = try #require(daemon.tlsPort)
            let pid = daemon.pid
            // Warm up: first-use allocations of a TLS connection are not the flood's cost.
            try await onOwnThread { try RawTLSClient(port: port).closeWithCloseNotify() }
            try await Task.sleep(for: .milliseconds(200))

            let client = try await onOwnThread {
                try RawTLSClient(port: port, receiveBufferBytes: 4096, batchWrites: true)
            }
            #expect(client.protocolVersion == "TLSv1.3")
            let before = try MemoryProbe.residentBytes(pid: pid)
            let peakReset = MemoryProbe.resetPeak(pid: pid)
            let outcome = try await onOwnThread { Self.flood(client, seconds: 20, maximumPairs: 400_000) }
            let peak = try MemoryProbe.peakResidentBytes(pid: pid)
            let after = try MemoryProbe.residentBytes(pid: pid)
            let cost = (peakReset ? peak : after) - before
            print(
                "[keyupdate-flood] \(outcome.pairsSent) KeyUpdate+1 byte pairs sent, server closed: "
                    + "\(outcome.serverClosed), \(outcome.bytesUnread) bytes unread; "
                    + "securechatd RSS \(MemoryProbe.mebibytes(before)) before, "
                    + "peak \(MemoryProbe.mebibytes(peak)) (peak reset: \(peakReset)), "
                    + "\(MemoryProbe.mebibytes(after)) after: cost \(MemoryProbe.mebibytes(cost))"
            )

            #expect(outcome.serverClosed, "the server must disconnect the flooder")
            #expect(cost < 1_572_864, "a flood may cost about 1 MiB at most: \(MemoryProbe.mebibytes(cost))")
            try await eventually("the log names the reason") {
                daemon.logLines.contains { $0.contains("disconnecting TLS peer") && $0.contains("KeyUpdate") }
            }
        }
    }

    /// The bound on TLS's own unsent output, reached with the KeyUpdate rate limit lifted: the peer is cut off
    /// once 16 KiB of replies wait for it, before the read backpressure (at the 64 KiB high-water mark) would
    /// merely pause it.
    @Test func aPeerThatLeavesTLSRepliesUnreadIsDisconnectedAtTheBound() async throws {
        let pki = try TLSTestPKI()
        let context = try pki.serverContext()
        let errorLog = TLSErrorLog()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ServerBootstrap(group: group)
            // A small send buffer: the replies pile up in the handler's channel, not in the kernel.
            .childChannelOption(.socketOption(.so_sndbuf), value: 4096)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try OpenSSLHandler(context: context, mode: .server)
                    handler.abuseLimits = TLSAbuseGuard.Limits(
                        peerRequestsPerSecond: .max, unsentControlBytes: 16 * 1024
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(errorLog)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)

        let outcome = try await onOwnThread {
            let client = try RawTLSClient(port: port, receiveBufferBytes: 4096, batchWrites: true)
            return Self.flood(client, seconds: 20, maximumPairs: 400_000)
        }

        #expect(outcome.serverClosed, "\(outcome)")
        let errors = errorLog.errors.withLockedValue { $0 }
        #expect(errors.map(\.code) == [.peerAbuse], "\(errors)")
        #expect(errors.first?.reason.contains("left unread") == true, "\(errors)")
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aTLS12RenegotiationAttemptIsRefusedAndTheServerCarriesOn() async throws {
        try await withTestServer { server in
            let port = server.tlsPort
            let refusal = try await onOwnThread { () -> String? in
                let client = try RawTLSClient(port: port, maximumVersion: TLS1_2_VERSION)
                #expect(client.protocolVersion == "TLSv1.2")
                // After the prompt the server says nothing until it gets a name: no record crosses the attempt.
                _ = try client.readUntil { $0.hasPrefix("* Choose a username") }
                return client.renegotiate()
            }
            let reason = try #require(refusal, "the renegotiation must not succeed")
            #expect(reason.contains("no renegotiation"), "\(reason)")
            try await expectServerStillServes(server, tag: "reneg")
        }
    }
}
