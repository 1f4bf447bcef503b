import Foundation
import Logging
import SecureChat
import Testing

/// A server that cannot load its certificate must not start, and must say which file and why.
@Suite("TLS certificate errors at start-up", .timeLimit(.minutes(2)))
struct CertificateLoadingTests {
    static func configuration(certificate: String, key: String) -> Configuration {
        var configuration = Configuration()
        configuration.host = "127.0.0.1"
        configuration.plaintextPort = 0
        configuration.tlsPort = 0
        configuration.certificatePath = certificate
        configuration.privateKeyPath = key
        return configuration
    }

    /// Binds with `configuration`, expecting failure; closes the server if it bound after all.
    static func bindError(_ configuration: Configuration) async throws -> any Error {
        do {
            let server = try await ChatServer.bind(configuration: configuration, logger: TestServer.quietLogger())
            // Bound after all: stop it (run() cancelled at once closes the listeners), then fail the test.
            let running = Task { try await server.run() }
            running.cancel()
            _ = await running.result
            throw ProcessRunnerError("bind succeeded with \(configuration.certificatePath ?? "-")")
        } catch let error as ProcessRunnerError {
            throw error
        } catch {
            return error
        }
    }

    @Test("a missing certificate file: bind throws naming the file and the reason")
    func missingCertificate() async throws {
        let directory = try TLSTemporaryDirectory()
        let missing = directory.file("nowhere.crt")
        let error = try await Self.bindError(
            Self.configuration(certificate: missing, key: TestCertificates.set.privateKeyPath))
        let tlsError = try #require(error as? TLSError, "\(error)")
        #expect(tlsError.code == .fileUnreadable)
        #expect(tlsError.path == missing)
        #expect("\(error)".contains(missing) && "\(error)".contains("No such file or directory"), "\(error)")
    }

    @Test("a key that does not match the certificate: bind throws naming the key and the certificate")
    func mismatchedKey() async throws {
        let directory = try TLSTemporaryDirectory()
        let other = try DevelopmentCertificates.generate(directory: directory.path)
        let error = try await Self.bindError(
            Self.configuration(certificate: TestCertificates.set.certificatePath, key: other.privateKeyPath)
        )
        let tlsError = try #require(error as? TLSError, "\(error)")
        #expect(tlsError.code == .privateKeyMismatch)
        #expect(tlsError.path == other.privateKeyPath)
        let text = "\(error)"
        #expect(text.contains(other.privateKeyPath) && text.contains(TestCertificates.set.certificatePath), "\(text)")
        #expect(text.contains("does not"), "\(text)")
    }

    @Test("a failed bind leaves no listener behind: the same configuration then binds fine")
    func failedBindReleasesNothingToLeak() async throws {
        let directory = try TLSTemporaryDirectory()
        _ = try await Self.bindError(
            Self.configuration(certificate: directory.file("nowhere.crt"), key: directory.file("nowhere.key"))
        )
        try await withTestServer { server in
            try await expectServerStillServes(server, tag: "fresh")
        }
    }

    /// The daemon next to this test binary (`swift build --build-tests` builds both into one directory).
    static let daemon: String? = {
        let candidate = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("securechatd").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        // swift-testing on Linux runs the .xctest bundle's executable; the products sit one level up too.
        let upper = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("securechatd").path
        return FileManager.default.isExecutableFile(atPath: upper) ? upper : nil
    }()

    @Test(
        "securechatd with a missing certificate exits non-zero and names the file",
        .enabled(if: daemon != nil, "securechatd is not built next to the tests")
    )
    func daemonRefusesAMissingCertificate() async throws {
        let daemon = try #require(Self.daemon)
        let directory = try TLSTemporaryDirectory()
        let missing = directory.file("missing.crt")
        let arguments = [
            "--cert", missing, "--key", TestCertificates.set.privateKeyPath, "--host", "127.0.0.1", "--port", "0",
            "--tls-port", "0",
        ]
        try await withProcess(daemon, arguments) { process in
            let status = try await process.waitForExit()
            let output = try await process.readToEnd().joined(separator: "\n")
            #expect(status != 0, "\(output)")
            #expect(output.contains(missing), "\(output)")
            #expect(output.contains("No such file or directory"), "\(output)")
        }
    }
}
