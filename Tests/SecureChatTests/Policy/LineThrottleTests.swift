import NIOCore
import Testing

@testable import SecureChat

extension PolicyTests {
    @Suite struct FloodGuardTests {
        @Test func twentyRefusalsWithinTenSecondsDisconnect() {
            var guardian = FloodGuard()
            for index in 0..<19 {
                let disconnect = guardian.recordRefusal(now: fakeStart + .milliseconds(Int64(index * 500)))
                #expect(!disconnect)
            }
            // The 20th at 9.5 s after the first.
            let disconnect = guardian.recordRefusal(now: fakeStart + .milliseconds(19 * 500))
            #expect(disconnect)
        }

        @Test func thinlySpreadRefusalsNeverDisconnect() {
            var guardian = FloodGuard()
            // 20 refusals span 19 * 550 ms = 10.45 s: never 20 inside 10 s.
            for index in 0..<5_000 {
                let disconnect = guardian.recordRefusal(now: fakeStart + .milliseconds(Int64(index * 550)))
                #expect(!disconnect)
            }
        }

        @Test func windowSlides() {
            var guardian = FloodGuard(maxRefusals: 20, window: .seconds(10))
            for _ in 0..<19 {
                let disconnect = guardian.recordRefusal(now: fakeStart)
                #expect(!disconnect)
            }
            // The old 19 have left the window; 19 new ones are not enough, the 20th new one is.
            let later = fakeStart + .seconds(11)
            for _ in 0..<19 {
                let disconnect = guardian.recordRefusal(now: later)
                #expect(!disconnect)
            }
            let disconnect = guardian.recordRefusal(now: later)
            #expect(disconnect)
        }

        @Test func memoryIsBounded() {
            var guardian = FloodGuard(maxRefusals: 20)
            #expect(guardian.storedRefusalCount == 0)
            for index in 0..<100_000 {
                _ = guardian.recordRefusal(now: fakeStart + .seconds(Int64(index)))
            }
            #expect(guardian.storedRefusalCount == 20)
        }

        @Test("an absurd --flood-refusals is a count, not an allocation: the first refusal does not trap")
        func hugeMaxRefusalsAllocateLittle() {
            var guardian = FloodGuard(maxRefusals: .max)
            for _ in 0..<100 {
                let disconnect = guardian.recordRefusal(now: fakeStart)
                #expect(!disconnect)
            }
            #expect(guardian.storedRefusalCount == 100)
        }

        @Test func zeroMaxRefusalsNeverDisconnects() {
            var guardian = FloodGuard(maxRefusals: 0)
            for _ in 0..<1_000 {
                let disconnect = guardian.recordRefusal(now: fakeStart)
                #expect(!disconnect)
            }
            #expect(guardian.storedRefusalCount == 0)
        }
    }

    @Suite struct LineThrottleTests {
        @Test func floodAtOneInstantAcceptsBurstRefusesThenDisconnects() {
            var throttle = LineThrottle()
            let decisions = (0..<30).map { _ in throttle.check(now: fakeStart) }
            #expect(decisions[0..<10].allSatisfy { $0 == .accept })
            #expect(decisions[10..<29].allSatisfy { $0 == .refuse })
            #expect(decisions[29] == .disconnect)
        }

        @Test func clientUnderTheRateIsAlwaysAccepted() {
            var throttle = LineThrottle()
            for index in 0..<2_000 {
                let decision = throttle.check(now: fakeStart + .milliseconds(Int64(index * 250)))
                #expect(decision == .accept)
            }
        }

        @Test func slightlyTooFastIsRefusedButNotDisconnected() {
            var throttle = LineThrottle()
            var refused = 0
            // 6 lines/s against 5 lines/s for two minutes: about one refusal per second, half the flood rule.
            for index in 0..<(6 * 120) {
                let decision = throttle.check(now: fakeStart + .nanoseconds(Int64(index) * 1_000_000_000 / 6))
                #expect(decision != .disconnect)
                refused += decision == .refuse ? 1 : 0
            }
            #expect(refused > 100)
        }

        @Test func rateZeroNeverRefuses() {
            var throttle = LineThrottle(ratePerSecond: 0)
            for _ in 0..<10_000 {
                let decision = throttle.check(now: fakeStart)
                #expect(decision == .accept)
            }
        }
    }
}
