import ArgumentParser
import Logging
import NIOCore
import SecureChat

/// `securechatd`: the command line. Parses options, sets up logging, binds and serves.
@main
struct SecureChatDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "securechatd",
        abstract: "A line-based chat server: join with nc/telnet (plaintext) or openssl s_client (TLS).",
        discussion: """
            With no options it listens on port 9000 (plaintext) on all interfaces. Every limit has a safe \
            default; see README.md for the protocol and the limits.
            """,
        version: SecureChatVersion.string
    )

    @Option(name: .long, help: "Address to listen on (default: all interfaces, IPv4 and IPv6).")
    var host: String = "::"

    @Option(name: .long, help: "Plaintext port.")
    var port: Int = 9000

    @Option(name: .long, help: "Lines of history kept per room and replayed to newcomers.")
    var history: Int = 50

    @Option(name: .customLong("max-line"), help: "Longest accepted input line, in bytes.")
    var maxLine: Int = 2048

    @Option(name: .customLong("outbox-bytes"), help: "Bytes queued for one client before it is evicted.")
    var outboxBytes: Int = 1 << 20

    @Option(name: .customLong("login-timeout"), help: "Seconds from connect to a valid username.")
    var loginTimeout: Int = 30

    @Option(name: .customLong("write-timeout"), help: "Seconds a client may stop reading before eviction.")
    var writeTimeout: Int = 30

    @Option(name: .customLong("max-rooms"), help: "Most rooms that may exist at once.")
    var maxRooms: Int = 1000

    @Option(name: .customLong("ban-file"), help: "JSON file that keeps bans across restarts.")
    var banFile: String?

    @Option(
        name: .customLong("operator-fingerprint"),
        help: "SHA-256 of a TLS client certificate whose holder is an operator (repeatable; turns off first-user-is-operator)."
    )
    var operatorFingerprints: [String] = []

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard history >= 0 else { throw ValidationError("--history must be 0 or more") }
        guard maxLine >= 16 else { throw ValidationError("--max-line must be at least 16 bytes") }
        guard outboxBytes >= 4096 else { throw ValidationError("--outbox-bytes must be at least 4096") }
        guard loginTimeout > 0, writeTimeout > 0 else { throw ValidationError("timeouts must be positive") }
        guard maxRooms >= 1 else { throw ValidationError("--max-rooms must be at least 1") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "securechatd")

        var configuration = Configuration()
        configuration.host = host
        configuration.plaintextPort = port
        configuration.historyLines = history
        configuration.maximumLineBytes = maxLine
        configuration.outboxBytes = outboxBytes
        configuration.loginTimeout = .seconds(Int64(loginTimeout))
        configuration.writeTimeout = .seconds(Int64(writeTimeout))
        configuration.maximumRooms = maxRooms
        configuration.banFilePath = banFile
        configuration.operatorFingerprints = operatorFingerprints

        let server = try await ChatServer.bind(configuration: configuration, logger: logger)
        print("securechatd \(SecureChatVersion.string): plaintext on port \(server.plaintextPort) (nc localhost \(server.plaintextPort))")
        try await server.run()
    }
}
