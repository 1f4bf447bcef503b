/// Members in the order of their name key, kept sorted as they come and go, so that listing the first N
/// (`/users`) costs N, not a sort of everyone. Keys are compared as stored: no allocation per comparison.
///
/// Insertion and removal are a binary search plus one move of the entries behind: at 50,000 members that is
/// under a megabyte of memmove per login, far below what the login itself costs.
struct SortedNameIndex {
    struct Entry {
        let key: String
        let id: ConnectionID
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }

    mutating func insert(key: String, id: ConnectionID) {
        entries.insert(Entry(key: key, id: id), at: position(of: key, id))
    }

    mutating func remove(key: String, id: ConnectionID) {
        let index = position(of: key, id)
        if index < entries.count, entries[index].id == id { entries.remove(at: index) }
    }

    /// The first `count` ids in key order.
    func first(_ count: Int) -> ArraySlice<Entry> {
        entries.prefix(count)
    }

    /// Where `(key, id)` is or would go.
    private func position(of key: String, _ id: ConnectionID) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            let entry = entries[middle]
            if entry.key < key || (entry.key == key && entry.id < id) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
