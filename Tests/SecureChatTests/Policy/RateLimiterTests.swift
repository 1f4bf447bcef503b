import NIOCore
import Testing

@testable import SecureChat

extension PolicyTests {
    @Suite struct RateLimiterTests {
        /// Offers `count` lines at `now` and returns how many were admitted.
        private func admitted(_ limiter: inout RateLimiter, count: Int, at now: NIODeadline) -> Int {
            (0..<count).reduce(0) { total, _ in total + (limiter.admit(now: now) ? 1 : 0) }
        }

        @Test func burstAtOneInstantAdmitsExactlyBurst() {
            var limiter = RateLimiter(ratePerSecond: 5, burst: 10)
            #expect(self.admitted(&limiter, count: 50, at: fakeStart) == 10)
        }

        @Test(arguments: [1.0, 3.0, 5.0, 7.0, 100.0])
        func afterOneSecondRateMoreAreAdmitted(rate: Double) {
            var limiter = RateLimiter(ratePerSecond: rate, burst: 10)
            #expect(self.admitted(&limiter, count: 50, at: fakeStart) == 10)
            // Refused lines must not have consumed anything: exactly `rate` more after one second,
            // but never more than a full bucket.
            let later = fakeStart + .seconds(1)
            #expect(self.admitted(&limiter, count: 500, at: later) == min(Int(rate), 10))
        }

        @Test func refillCapsAtBurst() {
            var limiter = RateLimiter(ratePerSecond: 5, burst: 10)
            #expect(self.admitted(&limiter, count: 50, at: fakeStart) == 10)
            #expect(self.admitted(&limiter, count: 50, at: fakeStart + .hours(1)) == 10)
        }

        @Test func sustainedRateOverAMinute() {
            var limiter = RateLimiter(ratePerSecond: 5, burst: 10)
            var total = 0
            // One attempt per millisecond for 60 s (inclusive): the burst plus 60 s of refill.
            for millisecond in 0...60_000 {
                total += limiter.admit(now: fakeStart + .milliseconds(Int64(millisecond))) ? 1 : 0
            }
            #expect(total == 10 + 300)
        }

        @Test(arguments: [0.0, -1.0, Double.nan, Double.infinity])
        func nonPositiveRateAdmitsEverything(rate: Double) {
            var limiter = RateLimiter(ratePerSecond: rate, burst: 1)
            #expect(limiter.isUnlimited)
            #expect(self.admitted(&limiter, count: 10_000, at: fakeStart) == 10_000)
        }

        @Test func fractionalRateBelowOne() {
            var limiter = RateLimiter(ratePerSecond: 0.5, burst: 1)
            let offsets: [TimeAmount] = [.zero, .zero, .milliseconds(1_999), .seconds(2), .seconds(3)]
            let results = offsets.map { limiter.admit(now: fakeStart + $0) }
            #expect(results == [true, false, false, true, false])
        }

        @Test func fractionalRateAboveOne() {
            var limiter = RateLimiter(ratePerSecond: 2.5, burst: 1)
            var total = 0
            // Every 10 ms for 10 s: admits at 0, 0.4, 0.8, ... 10.0 s.
            for step in 0...1_000 {
                total += limiter.admit(now: fakeStart + .milliseconds(Int64(step * 10))) ? 1 : 0
            }
            #expect(total == 26)
        }

        @Test func timeGoingBackwardsGrantsNothingExtra() {
            var limiter = RateLimiter(ratePerSecond: 1, burst: 2)
            #expect(self.admitted(&limiter, count: 5, at: fakeStart + .seconds(10)) == 2)
            #expect(self.admitted(&limiter, count: 5, at: fakeStart) == 0)
            #expect(self.admitted(&limiter, count: 5, at: fakeStart + .seconds(11)) == 1)
        }

        @Test func burstBelowOneIsTreatedAsOne() {
            var limiter = RateLimiter(ratePerSecond: 1, burst: 0)
            #expect(limiter.burst == 1)
            #expect(self.admitted(&limiter, count: 5, at: fakeStart) == 1)
        }

        @Test func absurdlySlowRateDoesNotOverflow() {
            var limiter = RateLimiter(ratePerSecond: 1e-30, burst: 1_000_000_000)
            #expect(self.admitted(&limiter, count: 3, at: fakeStart) == 3)
            let muchLater = limiter.admit(now: fakeStart + .hours(24 * 365))
            #expect(muchLater)
        }
    }
}
