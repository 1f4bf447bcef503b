import Logging
import NIOCore
import Testing

@testable import SecureChat

/// The hub's side of a cluster, without a database: a recording seam stands in for the link.
@Suite("Hub in a cluster: committed lines, remote members, operators, pauses")
struct HubClusterTests {
    let seam = RecordingClusterSeam()
    let hub: Hub

    init() {
        var logger = Logger(label: "hub-cluster-test")
        logger.logLevel = .critical
        hub = Hub(configuration: HubConfiguration(historyLines: 5), cluster: seam, logger: logger)
    }

    private func info(_ id: UInt64, address: String = "127.0.0.1") -> ClientInfo {
        ClientInfo(id: ConnectionID(id), address: address, transport: .plaintext, connectedAt: .now())
    }

    private func name(_ text: String) -> Username {
        try! Username.validate(text).get()
    }

    /// Logs `text` in as connection `id`: the reservation, a won claim, the admission; then commits the join.
    @discardableResult
    private func login(_ text: String, id: UInt64, order: Int64? = nil) async -> MemoryOutbox {
        let outbox = MemoryOutbox()
        #expect(await hub.reserveLogin(info(id), name: name(text)) == nil)
        let outcome = await hub.completeLogin(
            info(id), name: name(text), outbox: outbox, claim: .won(loginOrder: order ?? Int64(id)))
        guard case .loggedIn = outcome else {
            Issue.record("\(text) did not log in: \(outcome)")
            return outbox
        }
        await seam.commit(into: hub)
        return outbox
    }

    private func remote(_ text: String, node: String = "node-b", room: RoomName = .lobby, order: Int64 = 100)
        -> RemotePresence
    {
        RemotePresence(
            name: name(text), node: node, room: room, loginOrder: order, transport: .plaintext,
            certificateFingerprint: nil, address: "192.0.2.7", connectedAt: .now())
    }

    private func event(_ room: RoomName, _ sequence: Int64, _ text: String, node: String = "node-b") -> RoomEvent {
        RoomEvent(
            room: room, sequence: sequence, time: .now(), node: node, except: nil,
            line: ByteBuffer(string: "\(text)\n"))
    }

    @Test(
        "a chat line is published, not delivered, until it comes back committed; then everyone but its sender gets it once"
    )
    func chatWaitsForCommit() async throws {
        let alice = await login("alice", id: 1)
        let bob = await login("bob", id: 2)
        alice.clear()
        bob.clear()
        let reply = await hub.handle(.say("hello"), from: ConnectionID(1))
        guard case .pending(let receipt, nil) = reply else {
            Issue.record("expected a pending reply, got \(reply)")
            return
        }
        #expect(bob.lines.isEmpty)
        let events = await seam.commit(into: hub)
        #expect(await receipt.outcome == .committed)
        #expect(bob.lines == ["alice: hello"])
        #expect(alice.lines.isEmpty)
        // The same notification again (a reconnect's catch-up overlapping it) changes nothing.
        #expect(await hub.applyRoomEvents(events) == nil)
        #expect(bob.lines == ["alice: hello"])
    }

    @Test(
        "a line that skips ahead of its room's sequence stops delivery and reports the gap; filled, all arrive in order"
    )
    func gapsAreReported() async {
        let bob = await login("bob", id: 2)
        let last = await hub.lastSequences()[.lobby] ?? 0
        bob.clear()
        let gap = await hub.applyRoomEvents([event(.lobby, last + 3, "third"), event(.lobby, last + 4, "fourth")])
        #expect(gap == SequenceGap(room: .lobby, from: last + 1, upTo: last + 3))
        #expect(bob.lines.isEmpty)
        let filled = [event(.lobby, last + 1, "first"), event(.lobby, last + 2, "second")]
        #expect(
            await hub.applyRoomEvents(filled + [event(.lobby, last + 3, "third"), event(.lobby, last + 4, "fourth")])
                == nil)
        #expect(bob.lines == ["first", "second", "third", "fourth"])
    }

    @Test("lines gone from the database are reported to the room, and delivery goes on")
    func lostLinesAreReported() async {
        let bob = await login("bob", id: 2)
        let last = await hub.lastSequences()[.lobby] ?? 0
        bob.clear()
        #expect(await hub.applyRoomEvents([event(.lobby, last + 4, "late")], acceptingGapsIn: [.lobby]) == nil)
        #expect(bob.lines == ["! 3 lines of #lobby could not be recovered.", "late"])
    }

    @Test("a stored line with nothing printable keeps its place and shows nowhere; extreme sequences never trap")
    func extremeEvents() async {
        let bob = await login("bob", id: 2)
        let last = await hub.lastSequences()[.lobby] ?? 0
        bob.clear()
        let empty = RoomEvent(
            room: .lobby, sequence: last + 1, time: .now(), node: "node-b", except: nil, line: ByteBuffer())
        #expect(await hub.applyRoomEvents([empty, event(.lobby, last + 2, "next")]) == nil)
        #expect(bob.lines == ["next"])
        // A room whose stored sequence is as low as a bigint goes, then a line as high as one goes.
        let room = RoomName(parsing: "#edge")!
        _ = await hub.join(ConnectionID(2), loading: RoomSnapshot(room: room, lastSequence: .min, history: []))
        bob.clear()
        #expect(await hub.applyRoomEvents([event(room, .max, "far")], acceptingGapsIn: [room]) == nil)
        #expect(bob.lines.last == "far")
        #expect(await hub.applyRoomEvents([event(room, .max, "again")]) == nil)
        #expect(bob.lines.last == "far")
    }

    @Test("joining replays up to the last delivered line and takes every later one live: each line once")
    func exactlyOnceJoin() async {
        let room = RoomName(parsing: "#r")!
        _ = await login("alice", id: 1)
        let carol = await login("carol", id: 3)
        let dave = await login("dave", id: 4)
        // Dave is in #r, so this node follows it (loading its history: none yet).
        #expect(await hub.needsSnapshot(of: room))
        _ = await hub.join(ConnectionID(4), loading: RoomSnapshot(room: room, lastSequence: 0, history: []))
        #expect(!(await hub.needsSnapshot(of: room)))
        await seam.commit(into: hub)
        let joined = await hub.lastSequences()[room] ?? 0
        for number in 1...3 { _ = await hub.applyRoomEvents([event(room, joined + Int64(number), "r\(number)")]) }
        carol.clear()
        #expect(await hub.join(ConnectionID(3), room: room) == .joined)
        // The listener's next batch overlaps what was replayed (3) and brings one new line (4).
        _ = await hub.applyRoomEvents([event(room, joined + 3, "r3"), event(room, joined + 4, "r4")])
        let seen = carol.lines.filter { line in (1...4).contains { line.hasSuffix("r\($0)") } }
        #expect(seen.count == 4)
        #expect(seen.map { String($0.suffix(2)) } == ["r1", "r2", "r3", "r4"])
        #expect(seen.last == "r4")  // live, not replayed
        #expect(dave.lines.filter { $0.hasSuffix("r4") }.count == 1)
        #expect(seam.moves.contains("carol #r"))
        #expect(seam.published.last?.line == "* carol joined #r\n")
        #expect(seam.published.last?.except == ConnectionID(3))
    }

    @Test(
        "a room none of this node's users is in keeps no lines here; joining it loads its history, and lines committed meanwhile are read as a gap"
    )
    func roomsAreForgotten() async {
        let room = RoomName(parsing: "#quiet")!
        _ = await login("alice", id: 1)
        let carol = await login("carol", id: 3)
        // Bob, on another node, is in #quiet: the room is listed here, but its lines are not kept.
        await hub.applyPresence(.loggedIn(remote("bob", room: room)))
        _ = await hub.applyRoomEvents([event(room, 1, "q1"), event(room, 2, "q2")])
        #expect(await hub.lastSequences()[room] == nil)
        #expect(await hub.needsSnapshot(of: room))
        // Carol joins with what the database had at sequence 2; line 3 was committed (and skipped here) since.
        _ = await hub.applyRoomEvents([event(room, 3, "q3")])
        carol.clear()
        let history = [1, 2].map { History.Entry(time: .now(), line: ByteBuffer(string: "q\($0)\n")) }
        #expect(
            await hub.join(ConnectionID(3), loading: RoomSnapshot(room: room, lastSequence: 2, history: history))
                == .join(room, .joined))
        let quiet = {
            carol.lines.filter { line in (1...4).contains { line.hasSuffix("q\($0)") } }.map { $0.suffix(2) }
        }
        #expect(quiet() == ["q1", "q2"])
        // The next line shows the gap; the link reads line 3 and hands both over.
        #expect(await hub.applyRoomEvents([event(room, 4, "q4")]) == SequenceGap(room: room, from: 3, upTo: 4))
        #expect(await hub.applyRoomEvents([event(room, 3, "q3"), event(room, 4, "q4")]) == nil)
        #expect(quiet() == ["q1", "q2", "q3", "q4"])
        // Carol leaves: bob is still there, but this node lets the room's lines go.
        #expect(await hub.leaveRoom(ConnectionID(3)) == .movedToLobby)
        #expect(await hub.lastSequences()[room] == nil)
        #expect(await hub.roomList().map(\.name.value) == ["#lobby", "#quiet"])
        // Bob leaves too: the room is gone.
        await hub.applyPresence(.left(nameKey: "bob", node: "node-b"))
        #expect(await hub.roomList().map(\.name.value) == ["#lobby"])
    }

    @Test("members of other nodes are listed, counted and found by /whois, and leave with their node")
    func remoteMembers() async {
        _ = await login("alice", id: 1)
        await hub.applyPresence(.loggedIn(remote("bob")))
        await hub.applyPresence(.loggedIn(remote("carol", node: "node-c", room: RoomName(parsing: "#x")!)))
        #expect(await hub.onlineCount == 3)
        #expect(await hub.users(seenBy: ConnectionID(1), all: true).map(\.name) == ["alice", "bob", "carol"])
        #expect(await hub.whois("BOB")?.room == .lobby)
        #expect(await hub.roomList().map(\.name.value) == ["#lobby", "#x"])
        await hub.applyPresence(.moved(nameKey: "carol", node: "node-c", room: .lobby))
        #expect(await hub.roomList().map(\.members) == [3])
        await hub.nodeLost("node-c")
        #expect(await hub.whois("carol") == nil)
        await hub.applyPresence(.left(nameKey: "bob", node: "node-b"))
        #expect(await hub.onlineCount == 1)
    }

    @Test("a name held on another node, or a look-alike of it, is refused before any claim")
    func remoteNamesAreTaken() async {
        await hub.applyPresence(.loggedIn(remote("bob")))
        #expect(await hub.reserveLogin(info(5), name: name("B0B")) == .nameTaken)
        #expect(await hub.reserveLogin(info(6), name: name("zed")) == nil)
        // A second connection here cannot take a name whose claim is under way.
        #expect(await hub.reserveLogin(info(7), name: name("zed")) == .nameTaken)
        #expect(
            await hub.completeLogin(info(6), name: name("zed"), outbox: MemoryOutbox(), claim: .taken) == .nameTaken)
        #expect(await hub.reserveLogin(info(7), name: name("zed")) == nil)
    }

    @Test("a DM to another node's member is relayed and confirmed once committed")
    func directMessageRelay() async {
        _ = await login("alice", id: 1)
        await hub.applyPresence(.loggedIn(remote("bob")))
        let reply = await hub.handle(.directMessage(to: "bob", text: "psst"), from: ConnectionID(1))
        guard case .pending(let receipt, let confirmation?) = reply else {
            Issue.record("expected a relayed DM, got \(reply)")
            return
        }
        #expect(await receipt.outcome == .committed)
        #expect(String(buffer: LineRenderer.render(confirmation)) == "[dm -> bob] psst\n")
        #expect(seam.directMessages == ["node-b/bob: [dm] alice: psst\n"])
    }

    @Test("the first-user rule is cluster-wide: the oldest login anywhere is operator, and the role passes on in order")
    func clusterOperator() async {
        await hub.applyPresence(.loggedIn(remote("bob", order: 1)))
        let alice = await login("alice", id: 1, order: 5)
        #expect(await hub.isOperator(ConnectionID(1)) == false)
        await hub.applyPresence(.left(nameKey: "bob", node: "node-b"))
        #expect(await hub.isOperator(ConnectionID(1)))
        #expect(alice.lines.contains("* alice is now the operator (bob left)."))
    }

    @Test("while the link is down, chat, moves and bans are refused with the reason, and users are told once")
    func pausedLink() async {
        let alice = await login("alice", id: 1)
        alice.clear()
        await hub.linkDown()
        await hub.linkDown()
        #expect(alice.lines.count == 1)
        #expect(alice.lines.first?.hasPrefix("! Chat is paused") == true)
        let reply = await hub.handle(.say("anyone?"), from: ConnectionID(1))
        guard case .pending(let receipt, _) = reply else {
            Issue.record("expected a pending reply, got \(reply)")
            return
        }
        #expect(await receipt.outcome == .notSent)
        #expect(await hub.join(ConnectionID(1), room: RoomName(parsing: "#x")!) == .clusterUnavailable)
        #expect(await hub.reserveLogin(info(9), name: name("zed")) == .clusterUnavailable)
        await hub.linkUp()
        #expect(alice.lines.last == "* Chat resumed.")
    }

    @Test("declared down: every local user is told and disconnected, and nothing is announced or released")
    func lostPlace() async {
        let alice = await login("alice", id: 1)
        await hub.applyPresence(.loggedIn(remote("bob")))
        let publishedBefore = seam.published.count
        await hub.lostPlaceInCluster()
        #expect(alice.closeReasons == ["server lost"])
        #expect(alice.lines.last?.hasPrefix("! This server lost its place in the cluster") == true)
        #expect(await hub.onlineCount == 0)
        #expect(seam.published.count == publishedBefore)
        #expect(seam.releases.isEmpty)
    }

    @Test("kicking a member of another node asks their node to do it")
    func remoteKick() async {
        _ = await login("alice", id: 1, order: 1)
        await hub.applyPresence(.loggedIn(remote("bob", order: 2)))
        #expect(await hub.kick(by: ConnectionID(1), target: "bob", reason: "spam") == .done)
        #expect(seam.kicks == ["node-b/bob kicked by alice"])
    }
}
