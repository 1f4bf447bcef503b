import Foundation
import NIOCore
import NIOPosix
import SecureChat
import Subprocess
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL server for one test: `initdb` into a temporary folder, a free port on 127.0.0.1, run
/// as the unprivileged `postgres` user when the tests run as root (PostgreSQL refuses to run as root), and
/// stopped (and its folder removed) when the test ends, whether it passed or threw.
///
/// The server binaries come from Debian's `postgresql` package, which keeps them outside PATH in
/// `/usr/lib/postgresql/VERSION/bin`. Without them, tests that need a server are skipped, or fail under `CI=true`
/// (see `isAvailable`).
struct TestPostgres: Sendable {
    let port: Int
    let user = "securechat"
    let database = "postgres"
    let directory: String
    /// Whether the server also takes TLS, with the `server.crt` and `server.key` beside its data.
    var tls = false

    /// The folder with `initdb`, `pg_ctl` and `postgres`, if installed.
    static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        guard let versions = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        let newest = versions.compactMap(Int.init).sorted().last
        guard let newest, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/initdb") else {
            return nil
        }
        return "\(root)/\(newest)/bin"
    }()

    /// Whether cluster tests run: where the server binaries are installed, and always under `CI=true`, where a
    /// missing PostgreSQL must fail those tests (starting the server throws), never skip them.
    static var isAvailable: Bool {
        mustRun(binariesFound: binaries != nil, environment: ProcessInfo.processInfo.environment)
    }

    static func mustRun(binariesFound: Bool, environment: [String: String]) -> Bool {
        binariesFound || environment["CI"] == "true"
    }

    /// Why cluster tests are skipped here.
    static let unavailableReason: Comment =
        "PostgreSQL server binaries are not installed (apt-get install postgresql); .ci/run installs them"

    /// Starts a server, runs `body` with it, stops it.
    /// With `tls`, the server also takes TLS with that certificate chain and key (a development set's).
    static func with<T: Sendable>(
        tls: DevelopmentCertificateSet? = nil,
        _ body: (TestPostgres) async throws -> T
    ) async throws -> T {
        let server = try await start(tls: tls)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// A port chosen free can be taken before the server binds it (the other tests connect all the time, and
    /// outgoing connections take ports from the same range), so a failed start is tried again on a new port.
    private static func start(tls: DevelopmentCertificateSet?) async throws -> TestPostgres {
        guard let binaries else { throw TestPostgresError("no PostgreSQL server binaries") }
        var lastError: any Error = TestPostgresError("no attempt")
        for _ in 0..<5 {
            var template = Array((NSTemporaryDirectory() + "securechat-pg-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else { throw TestPostgresError("mkdtemp failed") }
            let directory = String(cString: made)
            let owner = getuid() == 0 ? getpwnam("postgres") : nil
            if let owner {
                guard chown(directory, owner.pointee.pw_uid, owner.pointee.pw_gid) == 0 else {
                    throw TestPostgresError("cannot hand \(directory) to the postgres user")
                }
            }
            let server = TestPostgres(port: try await freePort(), directory: directory, tls: tls != nil)
            if let tls {
                // PostgreSQL reads its key only if it is the key's owner and nobody else may read it.
                for (source, name) in [(tls.certificatePath, "server.crt"), (tls.privateKeyPath, "server.key")] {
                    let copy = "\(directory)/\(name)"
                    try FileManager.default.copyItem(atPath: source, toPath: copy)
                    guard chmod(copy, 0o600) == 0,
                        owner.map({ chown(copy, $0.pointee.pw_uid, $0.pointee.pw_gid) == 0 }) ?? true
                    else { throw TestPostgresError("cannot hand \(copy) to the server") }
                }
            }
            do {
                try await server.start(binaries: binaries, asPostgres: owner != nil)
                return server
            } catch {
                let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
                lastError = TestPostgresError("\(error); server log: \(log.suffix(2000))")
                await server.stop()
            }
        }
        throw lastError
    }

    private func start(binaries: String, asPostgres: Bool) async throws {
        let server = self
        let owner: Bool? = asPostgres ? true : nil
        try await server.run(
            "\(binaries)/initdb",
            ["-D", server.dataDirectory, "-U", server.user, "--auth=trust", "--no-sync", "-E", "UTF8"],
            asPostgres: owner != nil
        )
        try await server.run(
            "\(binaries)/pg_ctl",
            [
                "-D", server.dataDirectory, "-l", "\(directory)/server.log", "-o", server.serverOptions, "-w", "-t",
                "60", "start",
            ],
            asPostgres: owner != nil
        )
    }

    private var dataDirectory: String { "\(directory)/data" }

    /// The URL a node's `--cluster` takes.
    var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    private var serverOptions: String {
        "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off"
            + (tls ? " -c ssl=on -c ssl_cert_file=\(directory)/server.crt -c ssl_key_file=\(directory)/server.key" : "")
    }

    /// Stops the server (fast: open connections are cut), keeping its data, as an outage would.
    func pause() async throws {
        guard let binaries = Self.binaries else { return }
        try await run(
            "\(binaries)/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"], asPostgres: getuid() == 0)
    }

    /// Starts it again after `pause`, on the same port with the same data. Tried three times: under the whole
    /// suite's load a start can fail for a passing reason; the error carries the server's log.
    func resume() async throws {
        guard let binaries = Self.binaries else { return }
        var failure: any Error = TestPostgresError("not started")
        for _ in 0..<3 {
            do {
                try await run(
                    "\(binaries)/pg_ctl",
                    [
                        "-D", dataDirectory, "-l", "\(directory)/server.log", "-o", serverOptions, "-w", "-t", "60",
                        "start",
                    ],
                    asPostgres: getuid() == 0)
                return
            } catch {
                let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
                failure = TestPostgresError("\(error); server log: \(log.suffix(1500))")
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        throw failure
    }

    /// Stops the server at once and removes its folder.
    func stop() async {
        if let binaries = Self.binaries {
            try? await run(
                "\(binaries)/pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"],
                asPostgres: getuid() == 0
            )
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a PostgreSQL tool to its end; throws with its output if it fails.
    ///
    /// Its output goes to a file, not a pipe: `pg_ctl start` leaves a server running that would hold a pipe open.
    /// swift-subprocess watches `pg_ctl` itself (through its process descriptor) and reaps it; if the test is
    /// cancelled meanwhile, it kills it.
    private func run(_ tool: String, _ arguments: [String], asPostgres: Bool) async throws {
        let command = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", tool] + arguments : [tool] + arguments
        // Through bash (dash takes one-digit descriptors only) that first closes every descriptor but 0-2: a server
        // that inherits the test process's hundreds of sockets (under runuser's default limit of 1024) refuses to
        // start: "insufficient file descriptors available to start server process". swift-subprocess closes them
        // in the child as well where the C library can; the wrapper keeps that true wherever it cannot.
        let closeInherited = """
            for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null; done
            exec "$@"
            """
        let logPath = "\(directory)/\(URL(fileURLWithPath: tool).lastPathComponent).out"
        let log = try FileDescriptor.open(
            FilePath(logPath), .writeOnly, options: [.create, .truncate],
            permissions: [.ownerReadWrite, .groupRead, .otherRead]
        )
        // The server inherits this process's open-file limit; with hundreds of test sockets open at once, a
        // low soft limit left PostgreSQL "insufficient file descriptors available to start server process".
        _ = FileDescriptorLimit.raiseToHardLimit()
        let result = try await Subprocess.run(
            .path("/bin/bash"), arguments: Arguments(["-c", closeInherited, "bash"] + command), input: .none,
            output: .fileDescriptor(log, closeAfterSpawningProcess: true), error: .combinedWithOutput
        )
        guard result.terminationStatus.isSuccess else {
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw TestPostgresError(
                "\(tool) \(arguments.joined(separator: " ")) ended with \(result.terminationStatus): \(output)")
        }
    }

    /// A port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range (32768-60999 on
    /// Linux): a port from that range can be taken as the source port of any outgoing connection, and a test
    /// that stops and restarts its server on the same port would then find it gone.
    private static func freePort() async throws -> Int {
        for _ in 0..<50 {
            let candidate = Int.random(in: 20_000..<32_000)
            guard
                let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "127.0.0.1", port: candidate).get()
            else { continue }
            try? await channel.close()
            return candidate
        }
        throw TestPostgresError("no free port between 20000 and 32000")
    }
}

struct TestPostgresError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
