import NIOCore
import Testing
import SecureChat

@Suite("AcceptThrottle: new connections per address")
struct AcceptThrottleTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("a burst is admitted, then the rate; other addresses are independent")
    func burstThenRate() {
        let throttle = AcceptThrottle(ratePerSecond: 2, burst: 3)
        let admitted = (0..<10).filter { _ in throttle.admit(address: "192.0.2.1", now: start) }.count
        #expect(admitted == 3)
        #expect(throttle.admit(address: "192.0.2.2", now: start))
        let later = start + .seconds(1)
        let more = (0..<10).filter { _ in throttle.admit(address: "192.0.2.1", now: later) }.count
        #expect(more == 2)
    }

    @Test("rate 0 admits everything and tracks nothing")
    func off() {
        let throttle = AcceptThrottle(ratePerSecond: 0, burst: 1)
        #expect((0..<100).allSatisfy { _ in throttle.admit(address: "192.0.2.1", now: start) })
        #expect(throttle.trackedAddresses == 0)
    }

    @Test("the table never grows past its bound; idle buckets are forgotten, busy ones kept")
    func bounded() {
        let throttle = AcceptThrottle(ratePerSecond: 1, burst: 1, maximumTrackedAddresses: 4)
        for index in 0..<4 { #expect(throttle.admit(address: "10.0.0.\(index)", now: start)) }
        // Full and nobody idle long enough: a newcomer is admitted without a bucket.
        #expect(throttle.admit(address: "10.0.0.99", now: start))
        #expect(throttle.trackedAddresses == 4)
        // After the refill time the old buckets are dropped and the newcomer is tracked (and limited).
        let later = start + .seconds(2)
        #expect(throttle.admit(address: "10.0.0.100", now: later))
        #expect(!throttle.admit(address: "10.0.0.100", now: later))
        #expect(throttle.trackedAddresses <= 4)
    }
}
