import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// A TLS stream cut without close_notify may have been cut by anyone on the path, at any byte: its last
/// unfinished line must not run as a whole line (issue 11, point 1). One that ends with close_notify is
/// complete, and its last line counts like plaintext's.
@Suite("TLS truncation: a last line without newline needs close_notify", .timeLimit(.minutes(2)))
struct TLSTruncationTests {
    static let fragment = "please send the money to mall"

    /// alice (raw TLS) sends the fragment and leaves; returns what bob (plaintext) saw until alice's leave
    /// notice.
    private func linesBobSees(closeNotify: Bool, server: TestServer) async throws -> [String] {
        let bob = try await TestClient.loggedIn("bob", port: server.port)
        let port = server.tlsPort
        let alice = try await onOwnThread {
            let alice = try RawTLSClient(port: port)
            try alice.login("alice")
            return alice
        }
        try await bob.readUntil { $0 == "* alice joined #lobby" }
        let cut = try await onOwnThread {
            #expect(alice.write(Self.fragment))
            if closeNotify {
                alice.closeWithCloseNotify()
            } else {
                alice.closeWithoutCloseNotify()
            }
            return alice.waitForServerClose()
        }
        #expect(cut, "the server closes a connection whose peer has gone")
        let lines = try await bob.collectUntil { $0.hasPrefix("* alice left") }
        await bob.close()
        return lines
    }

    @Test func aFragmentCutOffWithoutCloseNotifyIsDroppedAndCounted() async throws {
        try await withTestServer { server in
            let before = server.server.counters[.tlsUncleanShutdown]
            let lines = try await self.linesBobSees(closeNotify: false, server: server)
            #expect(!lines.contains { $0.contains(Self.fragment) }, "\(lines)")
            #expect(server.server.counters[.tlsUncleanShutdown] > before)
        }
    }

    @Test func aFragmentEndedByCloseNotifyIsDelivered() async throws {
        try await withTestServer { server in
            let before = server.server.counters[.tlsUncleanShutdown]
            let lines = try await self.linesBobSees(closeNotify: true, server: server)
            #expect(lines.contains("alice: \(Self.fragment)"), "\(lines)")
            #expect(server.server.counters[.tlsUncleanShutdown] == before)
        }
    }

    @Test func plaintextStillDeliversALastLineWithoutNewlineAtEOF() async throws {
        try await withTestServer { server in
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let alice = try await TestClient.loggedIn("alice", port: server.port)
            try await bob.readUntil { $0 == "* alice joined #lobby" }
            alice.sendRaw(Array(Self.fragment.utf8))
            await alice.close()
            let lines = try await bob.collectUntil { $0.hasPrefix("* alice left") }
            #expect(lines.contains("alice: \(Self.fragment)"), "\(lines)")
        }
    }
}
