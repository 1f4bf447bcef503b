import NIOCore
import Testing

@testable import SecureChat

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

    /// Four addresses that have each spent their one-connection burst at `start`.
    private func fullThrottle() -> AcceptThrottle {
        let throttle = AcceptThrottle(ratePerSecond: 1, burst: 1, maximumTrackedAddresses: 4)
        for index in 0..<4 { #expect(throttle.admit(address: "10.0.0.\(index)", now: start)) }
        return throttle
    }

    @Test("a full table still throttles a newcomer: it gets a bucket of its own, never a free pass")
    func fullTableFailsClosed() {
        let throttle = fullThrottle()
        #expect(throttle.admit(address: "10.0.0.99", now: start))
        #expect(!throttle.admit(address: "10.0.0.99", now: start))
        #expect(!throttle.admit(address: "10.0.0.99", now: start))
        #expect(throttle.trackedAddresses == 4)
        #expect(throttle.evictions == 1)
    }

    @Test("the least recently seen address is evicted, in order; the others keep their state")
    func evictsLeastRecentlySeen() {
        let throttle = fullThrottle()
        #expect(throttle.addressesOldestFirst == ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"])
        #expect(!throttle.admit(address: "10.0.0.0", now: start))  // seen again: now the most recent
        #expect(throttle.admit(address: "10.0.0.50", now: start))  // evicts .1
        #expect(throttle.addressesOldestFirst == ["10.0.0.2", "10.0.0.3", "10.0.0.0", "10.0.0.50"])
        #expect(!throttle.admit(address: "10.0.0.2", now: start))  // still tracked and still spent
        #expect(throttle.admit(address: "10.0.0.1", now: start))  // forgotten: a fresh bucket; evicts .3
        #expect(!throttle.admit(address: "10.0.0.0", now: start))
        #expect(!throttle.admit(address: "10.0.0.50", now: start))
        #expect(throttle.addressesOldestFirst == ["10.0.0.2", "10.0.0.1", "10.0.0.0", "10.0.0.50"])
        #expect(throttle.evictions == 2)
    }

    @Test("many more addresses than slots: the table stays at its bound and every address is throttled")
    func churnStaysBounded() {
        let throttle = AcceptThrottle(ratePerSecond: 1, burst: 2, maximumTrackedAddresses: 64)
        for index in 0..<10_000 {
            let address = "2001:db8:\(String(index, radix: 16))::/64"
            #expect(throttle.admit(address: address, now: start))
            #expect(throttle.admit(address: address, now: start))
            #expect(!throttle.admit(address: address, now: start))
        }
        #expect(throttle.trackedAddresses == 64)
        #expect(throttle.evictions == 10_000 - 64)
        #expect(throttle.trackedNetworks == 64, "each is its own /48: that table is bounded too")
    }

    /// Whoever holds a /48 holds 65,536 /64s: rotating through them must not multiply the rate (issue 24, point 4).
    @Test("an IPv6 /48 has a bucket of its own: rotating through its /64s does not multiply the rate")
    func aSlash48IsThrottledAsAWhole() {
        let throttle = AcceptThrottle(ratePerSecond: 1, burst: 1, networkRatePerSecond: 1, networkBurst: 3)
        let admitted = (0..<100).filter {
            throttle.admit(address: "2001:db8:aa:\(String($0, radix: 16))::/64", now: start)
        }
        #expect(admitted == [0, 1, 2], "three /64s spend the /48's burst; every other /64 of it is refused")
        #expect(throttle.admit(address: "2001:db8:bb::/64", now: start), "another /48 has its own bucket")
        #expect(throttle.trackedNetworks == 2)
        let later = start + .seconds(1)
        #expect(throttle.admit(address: "2001:db8:aa:ff::/64", now: later), "the /48's rate refills")
        #expect(!throttle.admit(address: "2001:db8:aa:fe::/64", now: later))
    }

    @Test("IPv4 addresses have no wider bucket; the /48 rate follows the address rate by default")
    func ipv4HasNoNetworkBucket() {
        let throttle = AcceptThrottle(ratePerSecond: 1, burst: 1)
        #expect(throttle.networkRatePerSecond == 4)
        #expect(throttle.networkBurst == 4)
        let admitted = (0..<50).filter { throttle.admit(address: "198.51.100.\($0)", now: start) }.count
        #expect(admitted == 50)
        #expect(throttle.trackedNetworks == 0)
    }
}
