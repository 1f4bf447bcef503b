/// The ids of the relays this node carried out lately, the newest `capacity` of them.
///
/// A relay is deleted only after it was carried out, so that a connection cut between the two loses nothing:
/// the relay is read again at the next catch-up. This set makes sure it is not carried out twice then, nor
/// when two readers (the listener and a rejoin's catch-up) read it at once.
struct RecentRelays: Sendable {
    static let capacity = 10_000

    private var ids: Set<Int64> = []
    private var order: [Int64] = []
    /// Where the next id goes in `order` once it is full (the oldest is forgotten).
    private var next = 0

    /// Records `id`; false when it was carried out already.
    mutating func insert(_ id: Int64) -> Bool {
        guard ids.insert(id).inserted else { return false }
        if order.count < Self.capacity {
            order.append(id)
        } else {
            ids.remove(order[next])
            order[next] = id
            next = (next + 1) % Self.capacity
        }
        return true
    }
}
