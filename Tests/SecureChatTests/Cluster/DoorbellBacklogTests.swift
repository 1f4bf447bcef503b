import Testing

@testable import SecureChat

/// The listener's backlog of notifications: merged by what they point at, bounded, and turned into one full
/// catch-up when a flood would pass the bound.
@Suite("Cluster: the backlog of notifications")
struct DoorbellBacklogTests {
    let lobby = RoomName(parsing: "#lobby")!
    let rust = RoomName(parsing: "#rust")!

    func lines(_ rooms: [RoomName]?, _ hints: [Int64]? = nil) -> ClusterNotification {
        .roomLines(node: "node2", committedAtMilliseconds: 0, rooms: rooms, lastSequences: hints)
    }

    @Test("rings for one room merge into one read, up to the highest sequence hinted")
    func roomsMerge() {
        var backlog = DoorbellBacklog(node: "node1")
        var added = false
        var taken: [DoorbellBacklog.Step]? = nil
        added = backlog.add(lines([lobby], [3]))
        #expect(added)
        added = backlog.add(lines([lobby], [7]))
        #expect(!added)
        added = backlog.add(lines([lobby], [5]))
        #expect(!added)
        added = backlog.add(lines([rust]))
        #expect(added)
        #expect(
            backlog.take() == [
                .notification(
                    .roomLines(
                        node: "", committedAtMilliseconds: nil, rooms: [lobby, rust],
                        lastSequences: [7, DoorbellBacklog.unknownSequence]))
            ])
        taken = backlog.take()
        #expect(taken == nil)
    }

    @Test(
        "departures and presence come before bans, accounts, relays and lines; other nodes' relays and this node's presence are dropped"
    )
    func order() {
        var backlog = DoorbellBacklog(node: "node1")
        var added = false
        backlog.add(lines([lobby], [1]))
        backlog.add(.relays(node: "node1"))
        added = backlog.add(.relays(node: "node2"))
        #expect(!added)
        backlog.add(.bansChanged)
        added = backlog.add(.bansChanged)
        #expect(!added)
        backlog.add(.accountsChanged)
        added = backlog.add(.accountsChanged)
        #expect(!added)
        added = backlog.add(.presence(nameKey: "alice", node: "node1"))
        #expect(!added)
        backlog.add(.presence(nameKey: "bob", node: "node2"))
        added = backlog.add(.presence(nameKey: "bob", node: "node2"))
        #expect(!added)
        backlog.add(.nodeDown(node: "node3", incarnation: 5))
        added = backlog.add(.nodeDown(node: "node3", incarnation: 5))
        #expect(!added)
        #expect(
            backlog.take() == [
                .notification(.nodeDown(node: "node3", incarnation: 5)),
                .notification(.presence(nameKey: "bob", node: "node2")),
                .notification(.bansChanged),
                .notification(.accountsChanged),
                .notification(.relays(node: "node1")),
                .notification(
                    .roomLines(node: "", committedAtMilliseconds: nil, rooms: [lobby], lastSequences: [1])),
            ])
    }

    @Test("a ring without its rooms reads every room")
    func unlistedRooms() {
        var backlog = DoorbellBacklog(node: "node1")
        var added = false
        backlog.add(lines([lobby], [1]))
        added = backlog.add(lines(nil))
        #expect(added)
        added = backlog.add(lines(nil))
        #expect(!added)
        #expect(
            backlog.take() == [
                .notification(.roomLines(node: "", committedAtMilliseconds: nil, rooms: nil, lastSequences: nil))
            ])
    }

    @Test("past its limit of distinct entries the backlog becomes one catch-up, and stays that size")
    func floodBecomesCatchUp() {
        var backlog = DoorbellBacklog(node: "node1")
        var added = false
        var taken: [DoorbellBacklog.Step]? = nil
        for index in 0..<DoorbellBacklog.limit {
            added = backlog.add(.presence(nameKey: "name\(index)", node: "node9"))
            #expect(added)
        }
        // One more distinct entry: everything waiting is answered by one catch-up instead.
        added = backlog.add(.presence(nameKey: "one more", node: "node9"))
        #expect(added)
        for index in 0..<10_000 {
            added = backlog.add(.presence(nameKey: "flood\(index)", node: "node9"))
            #expect(!added)
            added = backlog.add(lines([lobby], [Int64(index)]))
            #expect(!added)
        }
        taken = backlog.take()
        #expect(taken == [.catchUp])
        taken = backlog.take()
        #expect(taken == nil)
        // Afterwards it merges as before.
        added = backlog.add(.presence(nameKey: "bob", node: "node2"))
        #expect(added)
    }
}
