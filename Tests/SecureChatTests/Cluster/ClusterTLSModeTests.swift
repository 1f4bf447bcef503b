import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import Testing

@testable import SecureChat

/// The database connection's TLS from the `--cluster` URL, as libpq reads `sslmode` and `sslrootcert`, and the
/// start-up warning when a password would cross the network to a server nobody checked.
@Suite("Cluster: sslmode and sslrootcert as libpq reads them")
struct ClusterTLSModeTests {
    enum Root: CustomStringConvertible, Sendable {
        case absent, file, system
        var description: String {
            switch self {
            case .absent: "no sslrootcert"
            case .file: "sslrootcert=FILE"
            case .system: "sslrootcert=system"
            }
        }
    }

    /// What a URL must give: encryption, verification and whose roots, or the refusal's exact text.
    struct Case: Sendable, CustomTestStringConvertible {
        let sslMode: String?
        let root: Root
        let expected: Result<Mapped, Refusal>
        var testDescription: String { "sslmode=\(sslMode ?? "(absent)"), \(root)" }
    }

    struct Mapped: Equatable, Sendable {
        let encryption: ClusterTLSMode.Encryption
        let verification: ClusterTLSMode.Verification
        let fileRoots: Bool
    }

    struct Refusal: Error, Equatable, Sendable {
        let message: String
    }

    static let needsRoot = "needs sslrootcert= (a PEM file of the CA certificates to trust, or system)"

    static let cases: [Case] = [
        Case(
            sslMode: nil, root: .absent,
            expected: .success(Mapped(encryption: .ifOffered, verification: .none, fileRoots: false))),
        Case(
            sslMode: nil, root: .file,
            expected: .success(Mapped(encryption: .ifOffered, verification: .chain, fileRoots: true))),
        Case(
            sslMode: nil, root: .system,
            expected: .success(Mapped(encryption: .always, verification: .chainAndHostName, fileRoots: false))),
        Case(
            sslMode: "disable", root: .absent,
            expected: .success(Mapped(encryption: .off, verification: .none, fileRoots: false))),
        Case(
            sslMode: "disable", root: .file,
            expected: .success(Mapped(encryption: .off, verification: .none, fileRoots: false))),
        Case(
            sslMode: "disable", root: .system,
            expected: .failure(
                Refusal(message: "--cluster URL: sslrootcert=system needs sslmode=verify-full (got sslmode=disable)"))),
        Case(
            sslMode: "prefer", root: .absent,
            expected: .success(Mapped(encryption: .ifOffered, verification: .none, fileRoots: false))),
        Case(
            sslMode: "prefer", root: .file,
            expected: .success(Mapped(encryption: .ifOffered, verification: .chain, fileRoots: true))),
        Case(
            sslMode: "prefer", root: .system,
            expected: .failure(
                Refusal(message: "--cluster URL: sslrootcert=system needs sslmode=verify-full (got sslmode=prefer)"))),
        Case(
            sslMode: "require", root: .absent,
            expected: .success(Mapped(encryption: .always, verification: .none, fileRoots: false))),
        Case(
            sslMode: "require", root: .file,
            expected: .success(Mapped(encryption: .always, verification: .chain, fileRoots: true))),
        Case(
            sslMode: "require", root: .system,
            expected: .failure(
                Refusal(message: "--cluster URL: sslrootcert=system needs sslmode=verify-full (got sslmode=require)"))),
        Case(
            sslMode: "verify-ca", root: .absent,
            expected: .failure(Refusal(message: "--cluster URL: sslmode=verify-ca \(needsRoot)"))),
        Case(
            sslMode: "verify-ca", root: .file,
            expected: .success(Mapped(encryption: .always, verification: .chain, fileRoots: true))),
        Case(
            sslMode: "verify-ca", root: .system,
            expected: .failure(
                Refusal(message: "--cluster URL: sslrootcert=system needs sslmode=verify-full (got sslmode=verify-ca)"))
        ),
        Case(
            sslMode: "verify-full", root: .absent,
            expected: .failure(Refusal(message: "--cluster URL: sslmode=verify-full \(needsRoot)"))),
        Case(
            sslMode: "verify-full", root: .file,
            expected: .success(Mapped(encryption: .always, verification: .chainAndHostName, fileRoots: true))),
        Case(
            sslMode: "verify-full", root: .system,
            expected: .success(Mapped(encryption: .always, verification: .chainAndHostName, fileRoots: false))),
        Case(
            sslMode: "allow", root: .absent,
            expected: .failure(
                Refusal(
                    message:
                        "--cluster URL: sslmode=allow is not one of disable, prefer, require, verify-ca, verify-full"))),
        Case(
            sslMode: "VERIFY-FULL", root: .file,
            expected: .failure(
                Refusal(
                    message:
                        "--cluster URL: sslmode=VERIFY-FULL is not one of disable, prefer, require, verify-ca, verify-full"
                ))),
    ]

    static var caPath: String { TestCertificates.set.caCertificatePath }

    static func url(sslMode: String?, root: Root, password: String = "s3cret", host: String = "db.example.net")
        -> String
    {
        var query: [String] = []
        if let sslMode { query.append("sslmode=\(sslMode)") }
        switch root {
        case .absent: break
        case .file: query.append("sslrootcert=\(caPath)")
        case .system: query.append("sslrootcert=system")
        }
        let tail = query.isEmpty ? "" : "?" + query.joined(separator: "&")
        return "postgres://node:\(password)@\(host):5432/securechat\(tail)"
    }

    @Test("every sslmode and sslrootcert maps to libpq's verification", arguments: cases)
    func mapping(_ testCase: Case) throws {
        let text = Self.url(sslMode: testCase.sslMode, root: testCase.root)
        switch testCase.expected {
        case .success(let expected):
            let tls = try ClusterURL(text).tls
            #expect(tls.encryption == expected.encryption)
            #expect(tls.verification == expected.verification)
            let caCertificates = try NIOSSLCertificate.fromPEMFile(Self.caPath)
            #expect(tls.trustRoots == (expected.fileRoots ? .certificates(caCertificates) : .system))
        case .failure(let refusal):
            let error = try #require(throws: ConfigurationError.self) { try ClusterURL(text) }
            #expect(error.description == refusal.message)
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test("each verification becomes the matching swift-nio-ssl setting, trusting the named file only")
    func nioSSLSettings() throws {
        #expect(try ClusterURL(Self.url(sslMode: "disable", root: .absent)).tls.tlsConfiguration == nil)
        let none = try #require(try ClusterURL(Self.url(sslMode: "require", root: .absent)).tls.tlsConfiguration)
        #expect(none.certificateVerification == .none)
        let caCertificates = try NIOSSLCertificate.fromPEMFile(Self.caPath)
        let chain = try #require(try ClusterURL(Self.url(sslMode: "verify-ca", root: .file)).tls.tlsConfiguration)
        #expect(chain.certificateVerification == .noHostnameVerification)
        #expect(chain.trustRoots == .certificates(caCertificates))
        let full = try #require(try ClusterURL(Self.url(sslMode: "verify-full", root: .file)).tls.tlsConfiguration)
        #expect(full.certificateVerification == .fullVerification)
        #expect(full.trustRoots == .certificates(caCertificates))
        let system = try #require(try ClusterURL(Self.url(sslMode: nil, root: .system)).tls.tlsConfiguration)
        #expect(system.certificateVerification == .fullVerification)
        #expect(system.trustRoots == .default)
    }

    @Test("an sslrootcert that is missing, not PEM or too large stops the start, naming the file")
    func unreadableRoot() throws {
        let directory = TestCertificates.directory
        let missing = "\(directory)/no-such-ca.pem"
        let notPEM = "\(directory)/not-a-ca.pem"
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: notPEM))
        let huge = "\(directory)/huge-ca.pem"
        try Data(count: ClusterTLSMode.rootCertificateFileLimit + 1).write(to: URL(fileURLWithPath: huge))
        let expectations = [
            (missing, "--cluster URL: sslrootcert=\(missing) cannot be read"),
            (notPEM, "--cluster URL: sslrootcert=\(notPEM) holds no PEM certificate"),
            (huge, "--cluster URL: sslrootcert=\(huge) is larger than 4 MiB"),
        ]
        for (path, message) in expectations {
            let text = "postgres://node:s3cret@db.example.net/securechat?sslmode=verify-full&sslrootcert=\(path)"
            let error = try #require(throws: ConfigurationError.self) { try ClusterURL(text) }
            #expect(error.description == message)
            // The daemon validates its configuration before anything else: the same refusal stops the start.
            var configuration = Configuration()
            configuration.cluster = ClusterConfiguration(url: text, nodeName: "a")
            let refusal = try #require(throws: ConfigurationError.self) { try configuration.validate() }
            #expect(refusal.description == message)
        }
    }

    @Test(
        "a password to a non-loopback host without verify-full is warned about at start",
        arguments: ["disable", "prefer", "require", "verify-ca"]
    )
    func warnsWithoutVerifyFull(_ sslMode: String) throws {
        let root: Root = sslMode == "disable" || sslMode == "prefer" || sslMode == "require" ? .absent : .file
        for host in ["db.example.net", "10.0.0.5", "[2001:db8::5]"] {
            let logged = try Self.startUpWarnings(Self.url(sslMode: sslMode, root: root, host: host))
            #expect(logged.count == 1, "\(host)")
            let message = try #require(logged.first)
            let bareHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            #expect(message.text.contains("travels to \(bareHost) without sslmode=verify-full"))
            #expect(message.host == bareHost)
            #expect(!message.text.contains("s3cret"))
        }
    }

    @Test("no warning with verify-full, without a password, or over loopback")
    func noWarningOtherwise() throws {
        #expect(try Self.startUpWarnings(Self.url(sslMode: "verify-full", root: .file)).isEmpty)
        #expect(try Self.startUpWarnings(Self.url(sslMode: nil, root: .system)).isEmpty)
        #expect(try Self.startUpWarnings("postgres://node@db.example.net/securechat?sslmode=disable").isEmpty)
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "[::1]", "[::ffff:127.0.0.1]"] {
            #expect(
                try Self.startUpWarnings(Self.url(sslMode: "disable", root: .absent, host: host)).isEmpty, "\(host)")
        }
        // Close to loopback is not loopback.
        for host in ["128.0.0.1", "[::2]", "[::ffff:10.0.0.1]", "localhost.example.net"] {
            #expect(
                try Self.startUpWarnings(Self.url(sslMode: "disable", root: .absent, host: host)).count == 1, "\(host)")
        }
    }

    /// What ``ClusterConfiguration/warnIfPasswordExposed(logger:)``, which `ChatServer.bind` calls, logs at warning.
    static func startUpWarnings(_ url: String) throws -> [(text: String, host: String?)] {
        let lines = NIOLockedValueBox<[(text: String, host: String?)]>([])
        let logger = Logger(label: "cluster-tls-test") { _ in WarningCapture(lines: lines) }
        try ClusterConfiguration(url: url, nodeName: "a").warnIfPasswordExposed(logger: logger)
        return lines.withLockedValue { $0 }
    }
}

private struct WarningCapture: LogHandler {
    let lines: NIOLockedValueBox<[(text: String, host: String?)]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level == .warning else { return }
        lines.withLockedValue { $0.append(("\(event.message)", event.metadata?["host"].map { "\($0)" })) }
    }
}
