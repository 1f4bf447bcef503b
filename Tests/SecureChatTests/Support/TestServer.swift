import Logging
import NIOCore
import NIOPosix
import SecureChat

/// A real `ChatServer` on 127.0.0.1 port 0, stopped when the body returns or throws.
struct TestServer {
    let server: ChatServer

    var port: Int { server.plaintextPort }
    var tlsPort: Int { server.tlsPort! }
    var hub: Hub { server.hub }

    static func quietLogger() -> Logger {
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        return logger
    }
}

/// Runs `body` against a fresh server (plaintext and TLS listeners) configured by `configure`, then cancels the
/// server and waits for it.
func withTestServer<T: Sendable>(
    _ configure: (inout Configuration) -> Void = { _ in },
    _ body: (TestServer) async throws -> T
) async throws -> T {
    var configuration = Configuration()
    configuration.host = "127.0.0.1"
    configuration.plaintextPort = 0
    configuration.tlsPort = 0
    configuration.certificatePath = TestCertificates.set.certificatePath
    configuration.privateKeyPath = TestCertificates.set.privateKeyPath
    // Tests send lines in bursts and open many connections from one address: the limits are off unless a test
    // turns them on to test them.
    configuration.ratePerSecond = 0
    configuration.maximumConnectionsPerAddress = 100_000
    configure(&configuration)
    let server = try await ChatServer.bind(configuration: configuration, logger: TestServer.quietLogger())
    let running = Task { try await server.run() }
    do {
        let result = try await body(TestServer(server: server))
        running.cancel()
        _ = await running.result
        return result
    } catch {
        running.cancel()
        _ = await running.result
        throw error
    }
}
