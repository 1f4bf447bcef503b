import ArgumentParser
import Dispatch
import Logging
import NIOCore
import SecureChat

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

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "securechatd")

        let files = FileDescriptorLimit.raiseToHardLimit()
        logger.info("open-file limit", metadata: ["soft": "\(files.soft)", "hard": "\(files.hard)"])

        var configuration = Configuration()
        try listeners.apply(to: &configuration, logger: logger)
        hub.apply(to: &configuration)
        limits.apply(to: &configuration)

        let server = try await ChatServer.bind(configuration: configuration, logger: logger)
        var ready = "securechatd \(SecureChatVersion.string) ready: nc localhost \(server.plaintextPort)"
        if let tlsPort = server.tlsPort { ready += " | TLS on port \(tlsPort)" }
        logger.notice("\(ready)")

        let reload = ReloadOnHangup(server: server, banFilePath: configuration.banFilePath, logger: logger)
        reload.install()
        try await server.run()
    }
}

/// SIGHUP: reload the TLS certificate and key (for new connections) and the ban file. A bad file keeps what
/// is loaded and logs why.
struct ReloadOnHangup: Sendable {
    let server: ChatServer
    let banFilePath: String?
    let logger: Logger

    func install() {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            logger.notice("SIGHUP: reloading certificates and bans")
            do {
                try server.reloadCertificates()
            } catch {
                logger.error("certificate reload failed; keeping the current certificate", metadata: ["error": "\(error)"])
            }
            guard let banFilePath else { return }
            do {
                let bans = try BanFile.load(path: banFilePath)
                Task { await server.hub.replaceBans(bans) }
            } catch {
                logger.error("ban file reload failed; keeping the current bans", metadata: ["error": "\(error)"])
            }
        }
        source.resume()
        Self.keepAlive.append(source)
    }

    nonisolated(unsafe) private static var keepAlive: [any DispatchSourceSignal] = []
}
