import Testing

@testable import SecureChat

@Suite("Cluster: relays carried out once")
struct RecentRelaysTests {
    @Test("an id is new once; the oldest are forgotten past the capacity, so the set stays bounded")
    func onceAndBounded() {
        var recent = RecentRelays()
        var fresh = recent.insert(7)
        #expect(fresh)
        fresh = recent.insert(7)
        #expect(!fresh)
        for id in 100..<Int64(100 + RecentRelays.capacity) { _ = recent.insert(id) }
        // 7 was the oldest: forgotten. The newest are still known.
        fresh = recent.insert(Int64(99 + RecentRelays.capacity))
        #expect(!fresh)
        fresh = recent.insert(7)
        #expect(fresh)
    }
}
