import Testing

@testable import SecureChat

extension PolicyTests {
    @Suite struct RecencyTableTests {
        @Test func keepsAtMostCapacityAndEvictsTheLeastRecentlyUsed() {
            var table = RecencyTable<Int>(capacity: 3)
            for key in ["a", "b", "c"] {
                table.withValue(for: key, make: { 0 }) { $0 += 1 }
            }
            table.withValue(for: "a", make: { 0 }) { $0 += 1 }
            #expect(table.keysOldestFirst == ["b", "c", "a"])
            let fresh = table.withValue(for: "d", make: { 100 }) { value -> Int in
                value += 1
                return value
            }
            #expect(fresh == 101)
            #expect(table.keysOldestFirst == ["c", "a", "d"])
            #expect(!table.contains("b"))
            #expect(table.count == 3)
            #expect(table.evictions == 1)
            #expect(table.withValue(for: "a", make: { 0 }) { $0 } == 2)
        }

        @Test func capacityOneReplacesItsOnlyEntry() {
            var table = RecencyTable<String>(capacity: 0)
            #expect(table.capacity == 1)
            table.withValue(for: "x", make: { "x" }) { _ in }
            table.withValue(for: "y", make: { "y" }) { _ in }
            #expect(table.keysOldestFirst == ["y"])
            #expect(table.withValue(for: "y", make: { "new" }) { $0 } == "y")
        }
    }
}
