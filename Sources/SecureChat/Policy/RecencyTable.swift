/// A map of at most `capacity` entries that makes room for a new key by evicting the least recently used one.
///
/// Every operation is O(1): entries live in a fixed pool of slots linked from least to most recently used by
/// slot index, so eviction unlinks the oldest slot and reuses it in place. Nothing is ever copied or scanned,
/// which matters because the owner calls it under a lock shared by every event loop.
struct RecencyTable<Value> {
    fileprivate struct Node {
        var key: String
        var value: Value
        /// Slot of the next older / next newer entry, or -1 at either end.
        var older: Int
        var newer: Int
    }

    let capacity: Int
    private var nodes: [Node] = []
    private var slots: [String: Int] = [:]
    private var oldest = -1
    private var newest = -1
    /// Entries evicted to make room since the table was created.
    private(set) var evictions = 0

    /// `capacity` is at least 1.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { slots.count }

    /// Runs `body` on the entry for `key` and marks it most recently used. A missing entry is created with
    /// `make()`; if the table is full, the least recently used entry is evicted first.
    mutating func withValue<Result>(
        for key: String,
        make: () -> Value,
        _ body: (inout Value) -> Result
    ) -> Result {
        if let slot = slots[key] {
            unlink(slot)
            linkAsNewest(slot)
            return body(&nodes[slot].value)
        }
        let slot: Int
        if nodes.count < capacity {
            slot = nodes.count
            nodes.append(Node(key: key, value: make(), older: -1, newer: -1))
        } else {
            slot = oldest
            unlink(slot)
            slots[nodes[slot].key] = nil
            nodes[slot] = Node(key: key, value: make(), older: -1, newer: -1)
            evictions += 1
        }
        slots[key] = slot
        linkAsNewest(slot)
        return body(&nodes[slot].value)
    }

    /// Whether `key` has an entry (without marking it used).
    func contains(_ key: String) -> Bool {
        slots[key] != nil
    }

    /// The keys from least to most recently used (O(n): for tests and diagnostics only).
    var keysOldestFirst: [String] {
        var keys: [String] = []
        var slot = oldest
        while slot >= 0 {
            keys.append(nodes[slot].key)
            slot = nodes[slot].newer
        }
        return keys
    }

    private mutating func unlink(_ slot: Int) {
        let (older, newer) = (nodes[slot].older, nodes[slot].newer)
        if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        if newer >= 0 { nodes[newer].older = older } else { newest = older }
        nodes[slot].older = -1
        nodes[slot].newer = -1
    }

    private mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = -1
        if newest >= 0 { nodes[newest].newer = slot } else { oldest = slot }
        newest = slot
    }
}

extension RecencyTable: Sendable where Value: Sendable {}
extension RecencyTable.Node: Sendable where Value: Sendable {}
