import COpenSSL
import Foundation
import Testing

@testable import SecureChat

/// A client that vanishes without close_notify (a closed lid, a lost network, Ctrl-C in s_client) resumes its
/// session on the next connection (issue 24, point 3): only the cut-off tail of its stream is in doubt.
@Suite("TLS resumption after a connection dropped without close_notify", .timeLimit(.minutes(2)))
struct TLSResumptionAfterDropTests {
    @Test(arguments: [TLS1_2_VERSION, TLS1_3_VERSION])
    func aClientThatDroppedWithoutCloseNotifyResumes(version: CInt) async throws {
        try await withTestServer { server in
            let bob = try await TestClient.loggedIn("bob", port: server.port)
            let port = server.tlsPort
            let session = try await onOwnThread {
                let alice = try RawTLSClient(port: port, maximumVersion: version)
                try alice.login("alice")
                let session = alice.resumableSession()
                alice.closeWithoutCloseNotify()
                #expect(alice.waitForServerClose(), "the server closes a connection whose peer has gone")
                return session
            }
            let offered = try #require(session, "the server made the session resumable")
            // The server has ended alice's session, and so freed her connection's TLS state.
            _ = try await bob.collectUntil { $0.hasPrefix("* alice left") }

            let reused = try await onOwnThread {
                let again = try RawTLSClient(port: port, maximumVersion: version, resuming: offered)
                try again.login("alice")
                defer { again.closeWithCloseNotify() }
                return again.sessionReused
            }
            #expect(reused, "TLS \(version == TLS1_2_VERSION ? "1.2" : "1.3") resumed after an unclean end")
            await bob.close()
        }
    }
}
