/// What one well-behaved soak client received from the other well-behaved ones: per sender, its room lines
/// and its direct messages, each a ``SequenceTracker``. Judged at the end against ``SoakPlan`` (who is in
/// which room, who writes to whom) and each sender's final counts.
public struct SoakLedger: Sendable, Equatable {
    /// This client's steady index.
    public let owner: Int
    public private(set) var room: [Int: SequenceTracker] = [:]
    public private(set) var direct: [Int: SequenceTracker] = [:]

    public init(owner: Int) {
        self.owner = owner
    }

    /// A chat line in the room from steady sender `sender`.
    public mutating func recordRoomLine(sender: Int, sequence: Int) {
        room[sender, default: SequenceTracker()].record(sequence)
    }

    /// A direct message (`[dm] name: ...`) from steady sender `sender`.
    public mutating func recordDirectMessage(sender: Int, sequence: Int) {
        direct[sender, default: SequenceTracker()].record(sequence)
    }

    /// Judges everything received against the plan: every room line of every other steady client of the
    /// same room, and every direct message of the one client that writes to this one, exactly once and in
    /// order; anything from anyone else is unexpected.
    ///
    /// - Parameters:
    ///   - roomSent: room lines each steady client sent, by steady index.
    ///   - directSent: direct messages each steady client sent (to its ``SoakPlan/directPartner(of:)``).
    public func verdict(plan: SoakPlan, roomSent: [Int], directSent: [Int]) -> DeliveryTally {
        var tally = DeliveryTally()
        let myRoom = plan.group(ofSteady: owner)
        for sender in 0..<plan.steadyCount where sender != owner && plan.group(ofSteady: sender) == myRoom {
            tally.add((room[sender] ?? SequenceTracker()).verdict(sent: roomSent[sender]))
        }
        for (sender, tracker) in room
        where sender == owner || sender < 0 || sender >= plan.steadyCount
            || plan.group(ofSteady: sender) != myRoom
        {
            tally.add(tracker.verdict(sent: 0))
        }
        for sender in 0..<plan.steadyCount where plan.directPartner(of: sender) == owner {
            tally.add((direct[sender] ?? SequenceTracker()).verdict(sent: directSent[sender]))
        }
        for (sender, tracker) in direct
        where sender < 0 || sender >= plan.steadyCount || plan.directPartner(of: sender) != owner {
            tally.add(tracker.verdict(sent: 0))
        }
        return tally
    }
}
