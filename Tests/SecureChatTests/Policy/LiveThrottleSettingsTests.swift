import NIOCore
import Testing

@testable import SecureChat

extension PolicyTests {
    /// A reload replaces the rate, burst and flood settings of sessions already online (issue 25).
    @Suite struct LiveThrottleSettingsTests {
        @Test func aThrottleFollowsReplacedSettingsFromItsNextLine() {
            let live = LiveThrottleSettings(LineThrottle(ratePerSecond: 0.001, burst: 1, maxRefusals: 0))
            var throttle = LineThrottle(following: live)
            #expect(throttle.check(now: fakeStart) == .accept)
            #expect(throttle.check(now: fakeStart) == .refuse)

            live.replace(with: LineThrottle(ratePerSecond: 0.001, burst: 3, maxRefusals: 0))
            // A full bucket of the new burst, at once.
            #expect((0..<3).map { _ in throttle.check(now: fakeStart) } == [.accept, .accept, .accept])
            #expect(throttle.check(now: fakeStart) == .refuse)
            #expect(throttle.rateLimiter.burst == 3)
        }

        @Test func aReplacedFloodGuardAppliesToo() {
            let live = LiveThrottleSettings(LineThrottle(ratePerSecond: 0.001, burst: 1, maxRefusals: 0))
            var throttle = LineThrottle(following: live)
            _ = throttle.check(now: fakeStart)
            #expect(throttle.check(now: fakeStart) == .refuse)
            live.replace(with: LineThrottle(ratePerSecond: 0.001, burst: 1, maxRefusals: 2))
            #expect(throttle.check(now: fakeStart) == .accept)  // the new, full bucket
            #expect(throttle.check(now: fakeStart) == .refuse)
            #expect(throttle.check(now: fakeStart) == .disconnect)
        }

        @Test func aThrottleThatFollowsNothingKeepsItsSettings() {
            var throttle = LineThrottle(ratePerSecond: 0.001, burst: 1, maxRefusals: 0)
            #expect(throttle.check(now: fakeStart) == .accept)
            #expect(throttle.check(now: fakeStart) == .refuse)
        }

        @Test func connectionCapsChangeInPlace() throws {
            let limiter = ConnectionLimiter(maxConnections: 100, maxPerAddress: 1, maxPerIPv6Network: 0)
            let first = try #require(limiter.tryAcquire(address: "192.0.2.1").ticket)
            #expect(limiter.tryAcquire(address: "192.0.2.1").refusalReason == .tooManyFromAddress)
            limiter.setCaps(maxPerAddress: 2, maxPerIPv6Network: 0)
            #expect(limiter.maxPerAddress == 2)
            let second = try #require(limiter.tryAcquire(address: "192.0.2.1").ticket)
            #expect(limiter.tryAcquire(address: "192.0.2.1").refusalReason == .tooManyFromAddress)
            withExtendedLifetime((first, second)) {}
        }
    }
}
