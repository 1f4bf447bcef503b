import Logging

/// A connection's logger, with its metadata (`connection`, `peer`, `transport`) attached only when something
/// is actually logged.
///
/// A `Logger` with per-connection metadata is a private copy of the handler plus a metadata dictionary: about
/// half a kilobyte that every idle connection would carry for the few lines it ever logs. This keeps the
/// shared logger and the three facts instead.
struct ConnectionLog: Sendable {
    private let base: Logger
    private let connection: (id: ConnectionID, address: String, kind: ListenerKind)?

    init(base: Logger, id: ConnectionID, address: String, kind: ListenerKind) {
        self.base = base
        self.connection = (id, address, kind)
    }

    /// A logger used as it is (no connection metadata).
    init(plain logger: Logger) {
        self.base = logger
        self.connection = nil
    }

    /// Logs at `level` with the connection's metadata. When the level is off nothing is built: setting
    /// metadata on a logger re-renders all of it (`StreamLogHandler`), which cost every connection three
    /// renderings per unlogged debug or info line, about 3 % of a TLS handshake's CPU.
    func log(
        _ level: Logger.Level,
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil
    ) {
        guard level >= base.logLevel else { return }
        logger.log(level: level, message(), metadata: metadata())
    }

    /// The logger with this connection's metadata; build it once per log statement (or group of them), and
    /// only once it is known that something will be logged (see ``log(_:_:metadata:)``).
    var logger: Logger {
        guard let connection else { return base }
        var logger = base
        logger[metadataKey: "connection"] = "\(connection.id)"
        logger[metadataKey: "peer"] = "\(connection.address)"
        logger[metadataKey: "transport"] = "\(connection.kind)"
        return logger
    }
}
