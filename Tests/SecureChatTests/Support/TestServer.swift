import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SecureChat

/// A real `ChatServer` on 127.0.0.1 port 0, stopped when the body returns or throws.
///
/// Clients made through `login` / `connect` are closed by `withTestServer` when the body ends, whatever the
/// outcome, so a failing test leaks no socket.
struct TestServer: Sendable {
    let server: ChatServer
    private let clients = NIOLockedValueBox<[TestClient]>([])

    init(server: ChatServer) {
        self.server = server
    }

    var port: Int { server.plaintextPort }
    var tlsPort: Int { server.tlsPort! }
    var hub: Hub { server.hub }

    /// Critical only, unless `SECURECHAT_TEST_LOG` names a level (`debug`, `info`...) to see a server's logs
    /// while working on a test.
    static func quietLogger() -> Logger {
        var logger = Logger(label: "test-server")
        let level = ProcessInfo.processInfo.environment["SECURECHAT_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .critical
        return logger
    }

    /// A client that logged in as `name` (the welcome notice has arrived).
    func login(_ name: String) async throws -> TestClient {
        let client = try await connect()
        try await client.login(name)
        return client
    }

    /// A connected client that has not logged in yet. `autoRead: false` makes one that never reads.
    func connect(autoRead: Bool = true) async throws -> TestClient {
        let client = try await TestClient.connect(port: port, autoRead: autoRead)
        clients.withLockedValue { $0.append(client) }
        return client
    }

    /// Closes `client` with the others when the test ends.
    func track(_ client: TestClient) {
        clients.withLockedValue { $0.append(client) }
    }

    func closeClients() async {
        for client in clients.withLockedValue({ $0 }) { await client.close() }
    }
}

/// Runs `body` against a fresh server (plaintext and TLS listeners) configured by `configure`, then closes the
/// clients it made, cancels the server and waits for it.
func withTestServer<T: Sendable>(
    _ configure: (inout Configuration) -> Void = { _ in },
    _ body: (TestServer) async throws -> T
) async throws -> T {
    var configuration = TestServer.configuration()
    configure(&configuration)
    let server = try await ChatServer.bind(configuration: configuration, logger: TestServer.quietLogger())
    let testServer = TestServer(server: server)
    let running = Task { try await server.run() }
    do {
        let result = try await body(testServer)
        await testServer.closeClients()
        running.cancel()
        _ = await running.result
        return result
    } catch {
        await testServer.closeClients()
        running.cancel()
        _ = await running.result
        throw error
    }
}

extension TestServer {
    /// What every test server starts from: loopback, ports chosen by the kernel, the test certificates, and
    /// the limits off unless a test turns them on to test them.
    static func configuration() -> Configuration {
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
        configuration.connectRatePerAddress = 0
        configuration.fullHandshakeRate = 0
        configuration.addressLinesPerSecond = 0
        configuration.addressBytesPerSecond = 0
        configuration.roomsCreatedPerMinute = 0
        configuration.directMessagesPerRecipient = 0
        return configuration
    }
}
