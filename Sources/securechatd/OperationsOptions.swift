import ArgumentParser
import Logging
import NIOCore
import SecureChat

/// Logs, metrics and shutdown.
struct OperationsOptions: ParsableArguments {
    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (human-readable lines) or json (one JSON object per line).")
    var logFormat: LogFormat = .text

    @Flag(name: .customLong("log-messages"), help: "Also log chat lines and DMs (off by default, for privacy).")
    var logMessages = false

    @Option(
        name: .customLong("metrics-port"),
        help: "Serve /metrics (Prometheus) and /healthz over HTTP on this port (default: off).")
    var metricsPort: Int?

    @Option(name: .customLong("metrics-host"), help: "Address of the metrics endpoint.")
    var metricsHost: String = "127.0.0.1"

    @Option(name: .customLong("shutdown-grace"), help: "Seconds a graceful shutdown lets clients drain before closing.")
    var shutdownGrace: Int = 5

    @Option(
        name: .customLong("event-loops"),
        help: "Event-loop threads (default: one per CPU this process may run on, by its CPU affinity and cgroup).")
    var eventLoops: Int?

    /// The threads the server's event loops get.
    var eventLoopCount: Int { eventLoops ?? EventLoopCount.automatic() }

    func validate() throws {
        try OptionBounds.logLevel.check(logLevel, flag: "log-level")
        if let metricsPort { try OptionBounds.port.check(metricsPort, flag: "metrics-port") }
        if let eventLoops { try OptionBounds.eventLoops.check(eventLoops, flag: "event-loops") }
        try SecondsOption.check(shutdownGrace, flag: "shutdown-grace", minimum: 0)
    }

    /// Sends every logger's lines to standard error in the chosen format, at the level of the switch it returns
    /// (which a SIGHUP reload may change).
    func bootstrapLogging() -> LogLevelSwitch {
        let levelSwitch = LogLevelSwitch(Logger.Level(rawValue: logLevel) ?? .info)
        let format = logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .trace  // the switch decides
                return SwitchedLevelLogHandler(wrapped: handler, levelSwitch: levelSwitch)
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = .trace
                return SwitchedLevelLogHandler(wrapped: handler, levelSwitch: levelSwitch)
            }
        }
        return levelSwitch
    }

    func apply(to configuration: inout Configuration) {
        configuration.logMessages = logMessages
        configuration.metricsPort = metricsPort
        configuration.metricsHost = metricsHost
        configuration.shutdownGrace = .seconds(Int64(shutdownGrace))
    }
}
