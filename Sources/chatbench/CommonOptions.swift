import ArgumentParser
import ChatBenchCore
import Foundation
import NIOCore
import NIOPosix
import SecureChat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Options every scenario shares: where the server is, TLS, source addresses, threads, names.
struct CommonOptions: ParsableArguments {
    @Option(help: "Server address (loopback only: 127.0.0.0/8 or ::1).")
    var host: String = "127.0.0.1"

    @Option(help: "Plaintext port.")
    var port: Int = 9000

    @Option(name: .customLong("tls-port"), help: "TLS port.")
    var tlsPort: Int = 9443

    @Flag(help: "Use the TLS port (through SecureChat's OpenSSLHandler in client mode).")
    var tls = false

    @Option(
        help: ArgumentHelp(
            "Servers to spread the clients over, round robin: host:port,host:port,... (loopback only).",
            discussion: """
                Replaces --host, --port and --tls-port; with --tls the ports are TLS ports. Senders are the first \
                clients, so they are spread round robin too, and every delivery is counted as cross-node (the \
                sender's target is not the receiver's) or same-node; latency reports both.
                """,
            valueName: "targets"))
    var targets: String?

    @Option(
        name: .customLong("ca"), help: "CA certificate (PEM) to verify the server with; without it, no verification.")
    var caPath: String?

    @Option(
        name: .customLong("source-addresses"),
        help: "Local addresses to bind clients to, round robin: e.g. 127.0.0.1-127.0.0.50 (loopback only)."
    )
    var sourceAddresses: String?

    @Option(help: "Client event loop threads (default: the CPUs this process may run on).")
    var threads: Int?

    @Option(
        name: .customLong("server-pid"),
        help: "securechatd's pid, for RSS and CPU figures from /proc; repeat it for several servers (summed).")
    var serverPIDs: [Int32] = []

    @Option(name: .customLong("name-prefix"), help: "Prefix of every username (default: from this process id).")
    var namePrefix: String?

    @Option(name: .customLong("login-concurrency"), help: "Clients logging in at once.")
    var loginConcurrency: Int = 200

    @Option(
        name: .customLong("stall-timeout"),
        help: "Seconds without any delivery (or, at a barrier, any pong) before giving up.")
    var stallTimeout: Int = 10

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    func validate() throws {
        guard AddressRange.isLoopbackHost(host) else {
            throw ValidationError("--host must be a loopback address (127.0.0.0/8, ::1 or localhost)")
        }
        if let targets {
            do { _ = try TargetList.parse(targets) } catch { throw ValidationError("\(error)") }
        }
        if let sourceAddresses {
            do { _ = try AddressRange.parse(sourceAddresses) } catch { throw ValidationError("\(error)") }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let namePrefix {
            guard (1...12).contains(namePrefix.count),
                namePrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
            else { throw ValidationError("--name-prefix: 1-12 of A-Za-z0-9_-") }
        }
        guard loginConcurrency >= 1 else { throw ValidationError("--login-concurrency must be at least 1") }
    }

    /// Builds the environment, runs `body` with it, and shuts the client's event loops down afterwards.
    func withEnvironment(
        label: String,
        proto: BenchProtocol = .line,
        _ body: (BenchEnvironment) async throws -> BenchResult
    ) async throws {
        FileLimit.raiseToHardLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads ?? System.coreCount)
        do {
            let shards = try await ShardSet.make(group: group)
            let sources = try sourceAddresses.map(AddressRange.parse) ?? []
            let connector = try Connector(group: group, shards: shards, sourceAddresses: sources)
            let tlsContext = try TLSContext.client(trustRootsPath: caPath, verifyPeer: caPath != nil)
            let plaintext = BenchTarget(host: host, port: port, tls: nil, proto: proto)
            let secure = BenchTarget(host: host, port: tlsPort, tls: tlsContext, proto: proto)
            // With --targets there is no other port to mix in (idle --tls-ratio needs --port and --tls-port).
            let listed = try targets.map { try TargetList.parse($0) }?.addresses.map {
                BenchTarget(host: $0.host, port: $0.port, tls: tls ? tlsContext : nil, proto: proto)
            }
            let environment = BenchEnvironment(
                connector: connector,
                targets: listed ?? [tls ? secure : plaintext],
                alternateTarget: listed == nil ? (tls ? plaintext : secure) : nil,
                namePrefix: namePrefix ?? Self.defaultPrefix(),
                serverPIDs: serverPIDs,
                progress: ProgressReporter(label: label, enabled: !quiet),
                loginConcurrency: loginConcurrency,
                stallTimeout: .seconds(Int64(stallTimeout))
            )
            var result = try await body(environment)
            result.command = CommandLine.arguments.map(Self.shellQuoted).joined(separator: " ")
            print(result.table)
            print(result.jsonLine)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    static func shellQuoted(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,".contains($0)) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `b` and the process id in base 36: unique among concurrent runs against one server.
    static func defaultPrefix() -> String {
        "b" + String(getpid(), radix: 36)
    }
}

/// The open-file limit: the benchmark needs one descriptor per connection.
enum FileLimit {
    static func raiseToHardLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
