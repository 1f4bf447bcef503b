import NIOCore

/// What a session does with an input line, as decided by `LineThrottle`.
public enum ThrottleDecision: Sendable, Equatable {
    /// Within the rate limit: process the line.
    case accept
    /// Over the rate limit: drop the line and tell the client with an error line.
    case refuse
    /// Sustained flooding: drop the line and disconnect the client.
    case disconnect
}

/// One client's input throttle: a `RateLimiter` for lines and a `FloodGuard` for the refusals it produces,
/// so a session asks a single question per line.
public struct LineThrottle: Sendable {
    /// The token bucket lines are charged to.
    public private(set) var rateLimiter: RateLimiter
    /// The refusal counter that turns sustained flooding into a disconnect.
    public private(set) var floodGuard: FloodGuard
    /// Settings a reload may replace (nil: these are fixed), and the generation of them this throttle follows.
    private var live: LiveThrottleSettings?
    private var liveGeneration = 0

    /// Combines an existing limiter and guard.
    public init(rateLimiter: RateLimiter, floodGuard: FloodGuard = FloodGuard()) {
        self.rateLimiter = rateLimiter
        self.floodGuard = floodGuard
    }

    /// Creates a throttle with the project defaults (5 lines/s, burst 10, 20 refusals in 10 s disconnect).
    /// A rate of `0` turns the limit off, and with it the flood disconnect (nothing is ever refused).
    public init(
        ratePerSecond: Double = 5,
        burst: Int = 10,
        maxRefusals: Int = 20,
        refusalWindow: TimeAmount = .seconds(10)
    ) {
        self.init(
            rateLimiter: RateLimiter(ratePerSecond: ratePerSecond, burst: burst),
            floodGuard: FloodGuard(maxRefusals: maxRefusals, window: refusalWindow)
        )
    }

    /// Records a line refused by a limit other than this client's own (its address's shared budget), so that
    /// sustained flooding through it disconnects as well.
    public mutating func refuse(now: NIODeadline) -> ThrottleDecision {
        self.followLiveSettings()
        return self.floodGuard.recordRefusal(now: now) ? .disconnect : .refuse
    }

    /// Charges one line.
    /// - Parameter now: the current monotonic time.
    public mutating func check(now: NIODeadline) -> ThrottleDecision {
        self.followLiveSettings()
        if self.rateLimiter.admit(now: now) {
            return .accept
        }
        return self.floodGuard.recordRefusal(now: now) ? .disconnect : .refuse
    }

    /// A throttle with `live`'s settings, that follows them when a reload replaces them.
    public init(following live: LiveThrottleSettings) {
        let (generation, throttle) = live.current
        self = throttle
        self.live = live
        self.liveGeneration = generation
    }

    /// A reload replaced the settings: start over with them.
    private mutating func followLiveSettings() {
        guard let live, live.generation != liveGeneration else { return }
        let (generation, throttle) = live.current
        rateLimiter = throttle.rateLimiter
        floodGuard = throttle.floodGuard
        liveGeneration = generation
    }
}
