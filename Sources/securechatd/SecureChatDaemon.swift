import ArgumentParser
import Dispatch
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import SecureChat
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// `securechatd`: the command line. Parses options, sets up logging and certificates, binds and serves.
@main
struct SecureChatDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "securechatd",
        abstract: "A line-based chat server: join with nc/telnet (plaintext) or openssl s_client (TLS).",
        discussion: """
            With no options it listens on port 9000 (plaintext) and 9443 (TLS) on all interfaces, using \
            certs/server.crt and certs/server.key, which it creates (signed by a new development CA, \
            certs/ca.crt) if they do not exist. Every limit has a safe default; README.md has the protocol.
            """,
        version: SecureChatVersion.string
    )

    @OptionGroup(title: "Listeners and certificates") var listeners: ListenerOptions
    @OptionGroup(title: "Rooms, history and operators") var hub: HubOptions
    @OptionGroup(title: "Limits and timeouts") var limits: LimitOptions
    @OptionGroup(title: "Shared budgets: addresses, rooms, history") var budgets: SharedBudgetOptions
    @OptionGroup(title: "Operations: logs, metrics, shutdown") var operations: OperationsOptions
    @OptionGroup(title: "Several nodes as one chat") var cluster: ClusterOptions
    @OptionGroup(title: "Configuration file") var configurationFile: ConfigurationFileOptions

    /// Parses and runs; any error that stops the start is one line on standard error, `Error: ` and a message
    /// naming the flag and value, and the exit status is 64 (EX_USAGE) for a usage error and 1 for any other.
    /// (ArgumentParser's own handling would add the usage text to a validation error, and could print an
    /// error's multi-line description.) Help and version requests are left to ArgumentParser.
    ///
    /// Settings from `--config` and SECURECHAT_* variables become flags before parsing (``ConfigurationLoader``);
    /// each of their problems is a line of its own.
    static func main() async {
        do {
            let commandLine = Array(CommandLine.arguments.dropFirst())
            var loaded = LoadedConfiguration(arguments: commandLine, origins: [:])
            if !CommandLineScan(commandLine).asksForHelp {
                loaded = try ConfigurationLoader.load(
                    commandLine: commandLine, environment: ProcessInfo.processInfo.environment)
            }
            var command = try parseAsRoot(loaded.arguments)
            if let daemon = command as? SecureChatDaemon {
                try await daemon.serve(origins: loaded.origins, commandLine: commandLine)
            } else if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let problems as ConfigurationProblems {
            let text = problems.lines.map { "Error: \($0)\n" }.joined()
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            Glibc.exit(ExitCode.validationFailure.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)
            }
            let isUsageError = code == .validationFailure || error is ConfigurationError
            let text = error is ConfigurationError ? "\(error)" : message(for: error)
            let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
            let bytes = Array("Error: \(line)\n".utf8)
            _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            Glibc.exit(isUsageError ? ExitCode.validationFailure.rawValue : ExitCode.failure.rawValue)
        }
    }

    func run() async throws {
        try await serve(origins: [:], commandLine: [])
    }

    /// Runs the server, or with `--check-config` checks the configuration and exits. `origins` says where each
    /// setting came from; `commandLine` is kept to read the configuration again on SIGHUP.
    func serve(origins: [String: String], commandLine: [String]) async throws {
        if configurationFile.check {
            try ConfigurationCheck(command: self, origins: origins).run()
        }
        let logLevel = operations.bootstrapLogging()
        let logger = Logger(label: "securechatd")

        let files = FileDescriptorLimit.raiseToHardLimit()
        logger.info("open-file limit", metadata: ["soft": "\(files.soft)", "hard": "\(files.hard)"])

        let configuration = try makeConfiguration(logger: logger)

        let loops = operations.eventLoopCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        logger.info("event loops", metadata: ["threads": "\(loops)"])
        let server = try await ChatServer.bind(configuration: configuration, logger: logger, group: group)
        // Anything else in the process that reports through swift-metrics lands in the same /metrics.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: server.metrics.registry))
        var ready = "securechatd \(SecureChatVersion.string) ready: nc localhost \(server.plaintextPort)"
        if let tlsPort = server.tlsPort { ready += " | TLS on port \(tlsPort)" }
        if let metricsPort = server.metricsPort { ready += " | metrics on port \(metricsPort)" }
        logger.notice("\(ready)")

        // In a cluster the ban file was imported once; SIGHUP reloads the configuration and certificates only.
        let reload = ReloadOnHangup(
            server: server, banFilePath: configuration.cluster == nil ? configuration.banFilePath : nil, logger: logger,
            reloader: ConfigurationReloader(
                commandLine: commandLine, running: self, server: server, logLevel: logLevel, logger: logger))
        // The signal sources live as long as this function, which is as long as the process: held here, not
        // leaked on purpose (LeakSanitizer reported the deliberately unreleased ones, and the process exited 1).
        let signalSources = [reload.install(), ExitOnSecondInterrupt.install(server: server, logger: logger)]
        defer { withExtendedLifetime(signalSources) {} }

        // SIGTERM or SIGINT: stop accepting, tell everyone, drain, close; exit 0 once all connections are gone.
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await services.run()
        try await group.shutdownGracefully()
        logger.notice("stopped")
    }
}

/// A second Ctrl-C during a graceful shutdown exits at once: after waiting up to one second for the ban list
/// to reach the disk, so that a ban made just before is not lost.
enum ExitOnSecondInterrupt {
    /// Returns the signal source, which the caller keeps for as long as it should work.
    static func install(server: ChatServer, logger: Logger) -> any DispatchSourceSignal {
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = SignalCount()
        source.setEventHandler {
            guard count.next() == 2 else { return }
            logger.warning("second interrupt: saving bans, then exiting")
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { exit(130) }
            Task {
                await server.hub.saveBans()
                exit(130)
            }
        }
        source.resume()
        return source
    }

    private final class SignalCount: @unchecked Sendable {
        // @unchecked Sendable: only touched from the signal source's handler, which a dispatch source never
        // runs concurrently with itself.
        private var value = 0
        func next() -> Int {
            value += 1
            return value
        }
    }
}
