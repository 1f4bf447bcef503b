import Logging
import NIOCore
import Synchronization
import Testing

@testable import SecureChat

extension PolicyTests {
    @Suite struct LogRateLimiterTests {
        @Test func allowsNPerIntervalAndReportsTheSuppressedCount() {
            let limiter = LogRateLimiter(maxPerInterval: 3, interval: .seconds(1))
            let first = (0..<10).map { _ in limiter.decide(now: fakeStart) }
            #expect(first == Array(repeating: .log(suppressed: 0), count: 3) + Array(repeating: .suppress, count: 7))
            #expect(limiter.decide(now: fakeStart + .milliseconds(999)) == .suppress)
            let second = (0..<5).map { _ in limiter.decide(now: fakeStart + .seconds(1)) }
            #expect(second == [.log(suppressed: 8), .log(suppressed: 0), .log(suppressed: 0), .suppress, .suppress])
            #expect(limiter.decide(now: fakeStart + .seconds(5)) == .log(suppressed: 2))
            #expect(limiter.totalSuppressed == 10)
        }

        @Test func concurrentCallersShareOneBudget() async {
            let limiter = LogRateLimiter(maxPerInterval: 5, interval: .seconds(60))
            let logged = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        (0..<200).reduce(0) { count, _ in
                            count + (limiter.decide(now: fakeStart) == .suppress ? 0 : 1)
                        }
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(logged == 5)
            #expect(limiter.totalSuppressed == 16 * 200 - 5)
        }

        @Test func logAppendsTheSuppressedCount() {
            let capture = LogCapture()
            var logger = Logger(label: "test") { _ in CapturingLogHandler(capture: capture) }
            logger.logLevel = .info
            let limiter = LogRateLimiter(maxPerInterval: 1, interval: .seconds(1))
            for index in 0..<4 {
                limiter.log("refused \(index)", metadata: ["peer": "x"], level: .notice, to: logger, now: fakeStart)
            }
            limiter.log("refused later", metadata: ["peer": "y"], to: logger, now: fakeStart + .seconds(2))
            let lines = capture.lines.withLock { $0 }
            #expect(lines.map(\.message) == ["refused 0", "refused later (3 similar lines suppressed)"])
            #expect(lines.last?.metadata["suppressed"] == "3")
            #expect(lines.last?.metadata["peer"] == "y")
        }

        @Test func everyLoggedLineCarriesTheCountSuppressedSinceThePreviousOne() {
            let capture = LogCapture()
            let logger = Logger(label: "test") { _ in CapturingLogHandler(capture: capture) }
            let limiter = LogRateLimiter(maxPerInterval: 2, interval: .seconds(1))
            // Window 1: 2 logged, 5 dropped; window 2: 2 logged, 1 dropped; window 3: 1 logged.
            for (second, attempts) in [(0, 7), (1, 3), (2, 1)] {
                for _ in 0..<attempts {
                    limiter.log("evicted", level: .info, to: logger, now: fakeStart + .seconds(Int64(second)))
                }
            }
            let lines = capture.lines.withLock { $0 }
            #expect(
                lines.map(\.message) == [
                    "evicted", "evicted", "evicted (5 similar lines suppressed)", "evicted",
                    "evicted (1 similar line suppressed)",
                ])
            #expect(lines.map { $0.metadata["suppressed"]?.description } == [nil, nil, "5", nil, "1"])
            #expect(limiter.totalSuppressed == 6)
        }

        @Test func disabledLevelDoesNotSpendTheBudget() {
            let capture = LogCapture()
            var logger = Logger(label: "test") { _ in CapturingLogHandler(capture: capture) }
            logger.logLevel = .warning
            let limiter = LogRateLimiter(maxPerInterval: 1, interval: .seconds(1))
            limiter.log("debug noise", level: .debug, to: logger, now: fakeStart)
            limiter.log("real", level: .error, to: logger, now: fakeStart)
            #expect(capture.lines.withLock { $0.map(\.message) } == ["real"])
            #expect(limiter.totalSuppressed == 0)
        }
    }
}

/// Collects what a `CapturingLogHandler` receives.
private final class LogCapture: Sendable {
    struct Line: Sendable {
        var message: String
        var metadata: Logger.Metadata
    }

    let lines = Mutex<[Line]>([])
}

private struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = LogCapture.Line(message: "\(event.message)", metadata: event.metadata ?? [:])
        self.capture.lines.withLock { $0.append(line) }
    }
}
