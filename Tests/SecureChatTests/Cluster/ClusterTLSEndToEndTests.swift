import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Testing

@testable import SecureChat

/// The `--cluster` URL's TLS against a real PostgreSQL with `ssl=on`: each mode connects, encrypted or not as
/// libpq's would, `verify-full` alone checks the host name, and a chain to a CA the URL does not name is refused.
///
/// The certificates come from the `openssl` tool, not the project's development CA: that CA carries name
/// constraints, which swift-nio-ssl's BoringSSL (postgres-nio's TLS) refuses to verify.
@Suite(
    "Cluster: TLS to a real PostgreSQL",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,
    .timeLimit(.minutes(5))
)
struct ClusterTLSEndToEndTests {
    /// A CA, and a server certificate signed by it for `subjectAltName` (followed by the CA).
    static func certificates(_ name: String, subjectAltName: String) throws -> DevelopmentCertificateSet {
        let directory = "\(TestCertificates.directory)/postgres-\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + ec + [
                "-keyout", "\(directory)/ca.key", "-out", "\(directory)/ca.crt", "-days", "2",
                "-subj", "/CN=\(name) test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign",
            ])
        try openssl(
            ["req"] + ec + [
                "-keyout", "\(directory)/server.key", "-out", "\(directory)/server.csr", "-subj", "/CN=\(name)",
            ])
        try "subjectAltName=\(subjectAltName)\nextendedKeyUsage=serverAuth\n"
            .write(toFile: "\(directory)/extensions", atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", "\(directory)/server.csr", "-CA", "\(directory)/ca.crt", "-CAkey",
            "\(directory)/ca.key", "-set_serial", "1", "-days", "2", "-extfile", "\(directory)/extensions",
            "-out", "\(directory)/server.crt",
        ])
        return DevelopmentCertificateSet(
            caCertificatePath: "\(directory)/ca.crt", certificatePath: "\(directory)/server.crt",
            privateKeyPath: "\(directory)/server.key", caFingerprintSHA256: nil, created: true, clientCertificates: [])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestPostgresError("openssl \(arguments.joined(separator: " ")) failed")
        }
    }

    /// Connects with the URL's settings and asks the server whether this connection is encrypted.
    static func encrypted(_ server: TestPostgres, query: String) async throws -> Bool {
        let url = "postgres://\(server.user)@127.0.0.1:\(server.port)/\(server.database)?\(query)"
        var logger = Logger(label: "cluster-tls-e2e")
        logger.logLevel = .critical
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: try ClusterURL(url).connectionConfiguration(), id: 1, logger: logger)
        do {
            let rows = try await connection.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger)
            var result: Bool?
            for try await ssl in rows.decode(Bool.self) { result = ssl }
            try await connection.close()
            return try #require(result as Bool?)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    @Test("a server certificate for the URL's host: every mode connects, and a stranger CA is refused")
    func matchingHost() async throws {
        let set = try Self.certificates("matching", subjectAltName: "IP:127.0.0.1")
        let stranger = try Self.certificates("stranger", subjectAltName: "IP:127.0.0.1").caCertificatePath
        try await TestPostgres.with(tls: set) { server in
            let ca = set.caCertificatePath
            let expectations = [
                ("sslmode=disable", false), ("sslmode=prefer", true), ("sslmode=require", true),
                ("sslmode=verify-ca&sslrootcert=\(ca)", true), ("sslmode=verify-full&sslrootcert=\(ca)", true),
            ]
            for (query, encrypted) in expectations {
                let answer = try await Self.encrypted(server, query: query)
                #expect(answer == encrypted, "\(query)")
            }
            // libpq verifies the chain in prefer and require too when a root file is given.
            for mode in ["prefer", "require", "verify-ca", "verify-full"] {
                await #expect(throws: (any Error).self, "sslmode=\(mode) with a stranger's CA") {
                    try await Self.encrypted(server, query: "sslmode=\(mode)&sslrootcert=\(stranger)")
                }
            }
        }
    }

    @Test("a server certificate for another name: verify-ca connects, verify-full refuses")
    func otherHost() async throws {
        let set = try Self.certificates("elsewhere", subjectAltName: "DNS:db.elsewhere.invalid")
        try await TestPostgres.with(tls: set) { server in
            let ca = set.caCertificatePath
            let chainOnly = try await Self.encrypted(server, query: "sslmode=verify-ca&sslrootcert=\(ca)")
            #expect(chainOnly)
            await #expect(throws: (any Error).self) {
                try await Self.encrypted(server, query: "sslmode=verify-full&sslrootcert=\(ca)")
            }
        }
    }
}
