import Foundation
import Logging
import Testing

@testable import SecureChat

/// Servers with accounts on, for the account tests.
enum Accounts {
    /// Cheap hashes: the tests check rules, not cost (the hashing suite checks the OWASP parameters).
    static let cheap = PasswordHashParameters(memoryKiB: 64, passes: 1, lanes: 1)
    static let prompt = "* Choose a username (1-24 characters: letters, digits, _ and -):"

    /// A scratch account file holding `accounts` (name and password; a nil password is certificate-only, bound to
    /// `certificates`), made with `parameters`.
    static func file(
        _ accounts: [(name: String, password: String?)], certificates: [String: [String]] = [:],
        parameters: PasswordHashParameters = cheap
    ) async throws -> (directory: String, path: String) {
        let directory = BanFileTests.scratchDirectory()
        let path = directory + "/accounts.json"
        let store = try AccountStore.load(path: path, logger: Logger(label: "test"))
        let hasher = PasswordHasher(parameters: parameters)
        for (name, password) in accounts {
            let username = try Username.validate(name).get()
            let account = Account(
                name: username, hash: try password.map { try hasher.hash($0) },
                certificates: certificates[name] ?? [], created: .now())
            #expect(store.register(account) == .registered)
        }
        await store.save()
        return (directory, path)
    }

    /// A test server with accounts on, kept in a fresh file holding `accounts`; `configure` sets the rest.
    static func withServer<T: Sendable>(
        _ accounts: [(name: String, password: String?)],
        certificates: [String: [String]] = [:],
        _ configure: @escaping (inout Configuration) -> Void = { _ in },
        _ body: (TestServer, String) async throws -> T
    ) async throws -> T {
        let (directory, path) = try await file(accounts, certificates: certificates)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await withTestServer({ configuration in
            configuration.accountFilePath = path
            configuration.accountLimits.hashParameters = cheap
            configure(&configuration)
        }) { server in
            try await body(server, path)
        }
    }

    /// The line a plaintext user gets for a registered name.
    static func overTLSOnly(_ name: String, _ server: TestServer) -> String {
        "! \(name) is registered; log in over TLS (port \(server.tlsPort)) or choose another name."
    }

    static func passwordPrompt(_ name: String) -> String {
        "* \(name) is registered. Type its password (it shows on your screen), or another name:"
    }

    /// Connects over TLS (from `source`), types `name` and reads up to the password prompt.
    static func atPasswordPrompt(
        _ name: String, _ server: TestServer, as registered: String? = nil, from source: String? = nil,
        tls: TestClient.TLS = .plain
    ) async throws -> TestClient {
        let client = try await TestClient.connect(port: server.tlsPort, from: source, tls: tls)
        server.track(client)
        _ = try await client.readUntil { $0 == prompt }
        client.send(name)
        #expect(try await client.readLine() == passwordPrompt(registered ?? name))
        return client
    }

    /// Logs in to `name` with `password` over TLS; returns once the welcome arrived.
    static func loggedIn(
        _ name: String, password: String, _ server: TestServer, from source: String? = nil
    ) async throws -> TestClient {
        let client = try await atPasswordPrompt(name, server, from: source)
        client.send(password)
        _ = try await client.readUntil("the welcome back") { $0.hasPrefix("* Welcome back, \(name)!") }
        return client
    }
}
