import NIOConcurrencyHelpers
import Synchronization

/// The rate, burst and flood settings that every session's ``LineThrottle`` follows, replaceable while sessions
/// are online (a SIGHUP that changes `--rate`). A throttle notices a new generation on its next line and starts
/// over with the new settings: a full bucket and no refusals counted.
public final class LiveThrottleSettings: Sendable {
    private let generationCounter = Atomic<Int>(0)
    private let settings: NIOLockedValueBox<LineThrottle>

    public init(_ throttle: LineThrottle) {
        settings = NIOLockedValueBox(throttle)
    }

    /// Sessions take these on their next line.
    public func replace(with throttle: LineThrottle) {
        settings.withLockedValue { current in
            current = throttle
            generationCounter.add(1, ordering: .releasing)
        }
    }

    /// Changes with every `replace`; one atomic load, cheap enough for every line.
    var generation: Int { generationCounter.load(ordering: .acquiring) }

    /// The settings and their generation, read together.
    var current: (generation: Int, throttle: LineThrottle) {
        settings.withLockedValue { (generationCounter.load(ordering: .relaxed), $0) }
    }
}
