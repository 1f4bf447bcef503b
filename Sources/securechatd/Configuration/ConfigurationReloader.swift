import ArgumentParser
import Foundation
import Logging
import SecureChat

/// Reads the whole configuration again on SIGHUP (the same command line, the environment, the file), checks it
/// as a start would, and applies it to the running server only if it is valid and changes no restart-only setting.
actor ConfigurationReloader {
    private let commandLine: [String]
    private let server: ChatServer
    private let logLevel: LogLevelSwitch
    private let logger: Logger
    private let metrics: ConfigurationReloadMetrics
    /// The settings in force, as `--check-config` shows them (secrets included: compared, never logged).
    private var runningValues: [String: String?]

    init(commandLine: [String], running: SecureChatDaemon, server: ChatServer, logLevel: LogLevelSwitch, logger: Logger)
    {
        self.commandLine = commandLine
        self.server = server
        self.logLevel = logLevel
        self.logger = logger
        self.metrics = ConfigurationReloadMetrics(registry: server.metrics.registry)
        self.runningValues = ConfigurationReport.values(of: running)
    }

    /// One reload; true if it was applied.
    func reload() async -> Bool {
        let command: SecureChatDaemon
        let configuration: Configuration
        do {
            let loaded = try ConfigurationLoader.load(
                commandLine: commandLine, environment: ProcessInfo.processInfo.environment)
            guard let parsed = try SecureChatDaemon.parseAsRoot(loaded.arguments) as? SecureChatDaemon else {
                throw ValidationError("the command line names no server to configure")
            }
            command = parsed
            configuration = try parsed.makeConfiguration(logger: logger, announceCertificates: false)
        } catch {
            return refuseAsInvalid(error)
        }
        let newValues = ConfigurationReport.values(of: command)
        let changed = ConfigurationKey.all.filter { newValues[$0.name] != runningValues[$0.name] }
        let restartOnly = changed.filter { $0.reload == .restartOnly }.map(\.name)
        guard restartOnly.isEmpty else {
            logger.error(
                "configuration reload refused: restart-only settings changed; nothing applied, restart to change them",
                metadata: ["keys": "\(restartOnly.joined(separator: ", "))"])
            metrics.count(.restartRequired)
            return false
        }
        do {
            try await server.applyReloadable(configuration)
        } catch {
            return refuseAsInvalid(error)
        }
        logLevel.level = Logger.Level(rawValue: command.operations.logLevel) ?? .info
        runningValues = newValues
        logger.notice(
            "configuration reloaded", metadata: ["changed": "\(changed.map(\.name).joined(separator: ", "))"])
        metrics.count(.applied)
        return true
    }

    /// Logs every problem, one line each, and keeps what runs.
    private func refuseAsInvalid(_ error: any Error) -> Bool {
        let lines: [String]
        switch error {
        case let problems as ConfigurationProblems: lines = problems.lines
        case is ConfigurationError: lines = ["\(error)"]
        default: lines = [SecureChatDaemon.message(for: error)]
        }
        for line in lines {
            let text = line.split(whereSeparator: \.isNewline).joined(separator: " ")
            logger.error(
                "configuration reload refused: invalid; the running settings stay", metadata: ["error": "\(text)"])
        }
        metrics.count(.invalid)
        return false
    }
}
