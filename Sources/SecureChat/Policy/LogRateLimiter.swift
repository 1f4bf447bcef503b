import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Lets at most `maxPerInterval` log lines of one kind through per `interval`, and counts the rest, so that an
/// attacker triggering refusals cannot flood the log (or the disk) while the log still says how much happened.
///
/// Use one instance per kind of message (e.g. "connection refused"). Thread-safe: refusals are logged from
/// every event loop (the lock is NIO's: ThreadSanitizer cannot see `Synchronization.Mutex`'s futex on Linux).
/// Windows are fixed (they start at the first line after the previous window ended).
///
/// The usual call is `log(_:metadata:level:to:)`: each line that gets through says how many similar lines were
/// dropped before it, in its text ("(N similar lines suppressed)") and as `suppressed: N` metadata.
public final class LogRateLimiter: Sendable {
    /// The verdict for one would-be log line.
    public enum Decision: Sendable, Equatable {
        /// Log it; `suppressed` lines of this kind were dropped since the last one logged.
        case log(suppressed: Int)
        /// Drop it (it is counted and reported with the next line logged).
        case suppress
    }

    private struct State {
        var windowStart: NIODeadline?
        var loggedInWindow = 0
        var suppressedSinceLastLog = 0
        var totalSuppressed = 0
    }

    /// Lines allowed per interval; values below 1 are treated as 1.
    public let maxPerInterval: Int
    /// The window length.
    public let interval: TimeAmount

    private let state = NIOLockedValueBox(State())

    public init(maxPerInterval: Int = 10, interval: TimeAmount = .seconds(1)) {
        self.maxPerInterval = max(maxPerInterval, 1)
        self.interval = interval
    }

    /// Decides whether a line may be logged now; a suppressed line is counted.
    public func decide(now: NIODeadline) -> Decision {
        self.state.withLockedValue { state in
            if let start = state.windowStart, now - start < self.interval {
                if state.loggedInWindow >= self.maxPerInterval {
                    state.suppressedSinceLastLog += 1
                    state.totalSuppressed += 1
                    return .suppress
                }
            } else {
                state.windowStart = now
                state.loggedInWindow = 0
            }
            state.loggedInWindow += 1
            let suppressed = state.suppressedSinceLastLog
            state.suppressedSinceLastLog = 0
            return .log(suppressed: suppressed)
        }
    }

    /// Lines suppressed since this limiter was created (for metrics).
    public var totalSuppressed: Int {
        self.state.withLockedValue { $0.totalSuppressed }
    }

    /// Logs `message` if the limit allows, appending " (K similar lines suppressed)" when lines were dropped
    /// before it (and `suppressed: K` to the metadata). The message and metadata are only built when logged.
    public func log(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        level: Logger.Level = .notice,
        to logger: Logger,
        now: NIODeadline = .now()
    ) {
        // Check the level first so a disabled level neither consumes the budget nor takes the lock.
        guard logger.logLevel <= level, case .log(let suppressed) = self.decide(now: now) else {
            return
        }
        if suppressed == 0 {
            logger.log(level: level, message(), metadata: metadata())
        } else {
            var merged = metadata() ?? [:]
            merged["suppressed"] = "\(suppressed)"
            let lines = suppressed == 1 ? "line" : "lines"
            logger.log(level: level, "\(message()) (\(suppressed) similar \(lines) suppressed)", metadata: merged)
        }
    }
}
