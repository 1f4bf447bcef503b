import Logging
import Synchronization

/// The log level every logger of the process follows, which a SIGHUP reload may change (`--log-level`).
final class LogLevelSwitch: Sendable {
    private let rawLevel: Atomic<Int>

    init(_ level: Logger.Level) {
        rawLevel = Atomic(Self.index(of: level))
    }

    var level: Logger.Level {
        get { Logger.Level.allCases[rawLevel.load(ordering: .relaxed)] }
        set { rawLevel.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    private static func index(of level: Logger.Level) -> Int { Logger.Level.allCases.firstIndex(of: level) ?? 2 }
}

/// A log handler whose level is the switch's, whatever the logger was created with.
struct SwitchedLevelLogHandler<Wrapped: LogHandler>: LogHandler {
    var wrapped: Wrapped
    let levelSwitch: LogLevelSwitch

    var logLevel: Logger.Level {
        get { levelSwitch.level }
        set {}  // the process's level is set by --log-level and reloads only
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        wrapped.log(event: event)
    }
}
