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

    /// The logger with this connection's metadata; build it once per log statement (or group of them).
    var logger: Logger {
        guard let connection else { return base }
        var logger = base
        logger[metadataKey: "connection"] = "\(connection.id)"
        logger[metadataKey: "peer"] = "\(connection.address)"
        logger[metadataKey: "transport"] = "\(connection.kind)"
        return logger
    }
}
