import Logging
import NIOCore
import Testing

@testable import SecureChat

/// A single node is a cluster of one whose log commits at once: room events take the same path either way
/// (`Hub.commit` → `Hub.apply`), so what holds alone holds in a cluster too. A recording seam stands in for the
/// database.
@Suite("One path: room events are applied alike alone and in a cluster")
struct HubOnePathTests {
    private static func makeHub(
        cluster: RecordingClusterSeam?, _ configure: (inout HubConfiguration) -> Void = { _ in }
    ) -> Hub {
        var logger = Logger(label: "hub-one-path-test")
        logger.logLevel = .critical
        var configuration = HubConfiguration()
        configure(&configuration)
        return Hub(configuration: configuration, cluster: cluster, logger: logger)
    }

    private static func info(_ id: UInt64) -> ClientInfo {
        ClientInfo(id: ConnectionID(id), address: "127.0.0.\(id)", transport: .plaintext, connectedAt: .now())
    }

    private static func name(_ text: String) -> Username {
        try! Username.validate(text).get()
    }

    /// Logs in on a cluster node: reservation, a won claim, admission, and the join committed.
    private static func login(
        _ text: String, id: UInt64, into hub: Hub, seam: RecordingClusterSeam, format: WireFormat = .line
    ) async -> MemoryOutbox {
        let outbox = MemoryOutbox(format: format)
        #expect(await hub.reserveLogin(info(id), name: name(text)) == nil)
        let outcome = await hub.completeLogin(
            info(id), name: name(text), outbox: outbox, claim: .won(loginOrder: Int64(id)))
        #expect(outcome == .loggedIn(room: .lobby, isOperator: id == 1), "\(text): \(outcome)")
        await seam.commit(into: hub)
        return outbox
    }

    private static func remote(_ text: String, room: RoomName = .lobby) -> RemotePresence {
        RemotePresence(
            name: name(text), node: "node-b", room: room, loginOrder: 100, transport: .plaintext,
            certificateFingerprint: nil, address: "192.0.2.7", connectedAt: .now())
    }

    @Test("/ignore holds for a member of another node: their committed lines skip whoever ignores them")
    func ignoreHoldsAcrossNodes() async throws {
        let seam = RecordingClusterSeam()
        let hub = Self.makeHub(cluster: seam)
        let alice = await Self.login("alice", id: 1, into: hub, seam: seam)
        let bob = await Self.login("bob", id: 2, into: hub, seam: seam)
        await hub.applyPresence(.loggedIn(Self.remote("carol")))
        #expect(await hub.ignore(by: ConnectionID(1), target: "carol") == .ignoring("carol"))
        alice.clear()
        bob.clear()
        let next = try #require(await hub.lastSequences()[.lobby]) + 1
        let line = RoomEvent(
            room: .lobby, sequence: next, time: .now(), node: "node-b", except: nil,
            event: .said(from: "carol", text: "hello from b", room: .lobby))
        #expect(await hub.applyRoomEvents([line]) == nil)
        #expect(bob.lines == ["carol: hello from b"])
        #expect(alice.lines.isEmpty)
    }

    @Test("a DM relayed from another node is typed, and goes nowhere when the recipient ignores its sender")
    func relayedDirectMessages() async throws {
        let seam = RecordingClusterSeam()
        let hub = Self.makeHub(cluster: seam)
        let alice = await Self.login("alice", id: 1, into: hub, seam: seam)
        let bot = await Self.login("bot", id: 2, into: hub, seam: seam, format: .json)
        await hub.applyPresence(.loggedIn(Self.remote("carol")))
        alice.clear()
        bot.clear()
        let stored = try #require(StoredEvent.directMessage(sender: "carol", body: "psst\u{1b}[2J"))
        #expect(stored == .directMessage(from: "carol", text: "psst[2J"))
        await hub.deliverRelayedDirectMessage(to: Username.key(for: "alice"), stored)
        await hub.deliverRelayedDirectMessage(to: Username.key(for: "bot"), stored)
        #expect(alice.lines == ["[dm] carol: psst[2J"])
        #expect(bot.lines == [##"{"type":"dm","from":"carol","text":"psst[2J"}"##])
        #expect(await hub.ignore(by: ConnectionID(1), target: "carol") == .ignoring("carol"))
        await hub.deliverRelayedDirectMessage(to: Username.key(for: "alice"), stored)
        #expect(alice.lines == ["[dm] carol: psst[2J"])
        // A row of a node older than schema version 6 is its rendered line; a forged sender shows nowhere.
        #expect(
            StoredEvent.directMessage(sender: "", body: "[dm] x: y") == .preformatted(ByteBuffer(string: "[dm] x: y\n"))
        )
        #expect(StoredEvent.directMessage(sender: "not a name!", body: "hi") == nil)
    }

    @Test("in a cluster, joins and leaves are committed as what they are, and reach a JSON member typed")
    func joinsAndLeavesAreTypedInACluster() async throws {
        let seam = RecordingClusterSeam()
        let hub = Self.makeHub(cluster: seam)
        let bot = await Self.login("bot", id: 1, into: hub, seam: seam, format: .json)
        let terminal = await Self.login("terminal", id: 2, into: hub, seam: seam)
        terminal.clear()
        bot.clear()
        _ = await Self.login("carol", id: 3, into: hub, seam: seam)
        #expect(terminal.lines == ["* carol joined #lobby"])
        #expect(bot.lines == [##"{"type":"joined","room":"#lobby","name":"carol"}"##])
        bot.clear()
        await hub.remove(ConnectionID(3), reason: .quit(message: nil))
        #expect(seam.published.last?.event == .left(name: "carol", room: .lobby, text: "carol left #lobby (quit)"))
        await seam.commit(into: hub)
        #expect(bot.lines.count == 1)
        #expect(bot.lines.first?.hasPrefix(##"{"type":"left","room":"#lobby","name":"carol""##) == true, "\(bot.lines)")
    }

    @Test("a stored row gives back the event it was made from; a non-room event has no row")
    func storedRowsRoundTrip() {
        let room = RoomName(parsing: "#r")!
        let events: [ChatEvent] = [
            .said(from: "alice", text: "hi", room: room),
            .joined(name: "alice", room: room),
            .left(name: "alice", room: room, text: "alice left #r (kicked by op)"),
            .notice("alice was banned"),
        ]
        for event in events {
            let row = try! #require(StoredEvent.Row(event))
            #expect(
                StoredEvent.event(kind: row.kind, senderName: row.senderName, body: row.body, line: "", room: room)
                    == event)
        }
        #expect(StoredEvent.Row(.directMessage(from: "alice", text: "psst")) == nil)
        // Read back, a join or leave from a name that is not valid shows nowhere.
        #expect(StoredEvent.event(kind: "joined", senderName: "not a name!", body: "", line: "", room: room) == nil)
        #expect(StoredEvent.event(kind: "left", senderName: "alice", body: "\u{7}", line: "", room: room) == nil)
    }

    @Test("all rooms' history stays within its bytes on a cluster's node as on a single node")
    func historyBoundHoldsInACluster() async throws {
        let seam = RecordingClusterSeam()
        let hub = Self.makeHub(cluster: seam) {
            $0.historyBytesTotal = 100
            $0.historyBytesPerRoom = 1000
        }
        _ = await Self.login("user1", id: 1, into: hub, seam: seam)
        for number in 0..<10 {
            _ = await hub.say(ConnectionID(1), "lobby-\(number)")
        }
        await seam.commit(into: hub)
        let lobby = await hub.rooms[.lobby]!.history
        #expect(lobby.bytes <= 100)
        #expect(await hub.historyBudget.bytes == lobby.bytes)
        #expect(lobby.entries.map { String(buffer: $0.line) }.last == "user1: lobby-9\n")
        // A room left to members of other nodes keeps its members here but not its lines, nor their bytes.
        let room = RoomName(parsing: "#side")!
        _ = await hub.handle(.join(room), from: ConnectionID(1))
        await seam.commit(into: hub)
        _ = await hub.say(ConnectionID(1), "side line")
        await seam.commit(into: hub)
        #expect(await hub.rooms[room]!.history.count == 2)
        await hub.applyPresence(.loggedIn(Self.remote("carol", room: room)))
        _ = await hub.handle(.leave, from: ConnectionID(1))
        await seam.commit(into: hub)
        #expect(await hub.rooms[room]?.population == 1)
        #expect(await hub.rooms[room]?.history.isEmpty == true)
        #expect(await hub.historyBudget.bytes == hub.rooms[.lobby]!.history.bytes)
    }

    @Test("the operator rules are one: with operator accounts configured, nobody is operator by logging in first")
    func operatorAccountsEndTheFirstUserRuleInACluster() async throws {
        for seam in [RecordingClusterSeam(), nil] {
            let hub = Self.makeHub(cluster: seam) { $0.operatorAccounts = ["admin"] }
            let outbox = MemoryOutbox()
            let outcome: LoginOutcome
            if let seam {
                #expect(await hub.reserveLogin(Self.info(1), name: Self.name("alice")) == nil)
                outcome = await hub.completeLogin(
                    Self.info(1), name: Self.name("alice"), outbox: outbox, claim: .won(loginOrder: 1))
                await seam.commit(into: hub)
            } else {
                outcome = await hub.login(Self.info(1), name: Self.name("alice"), outbox: outbox)
            }
            #expect(outcome == .loggedIn(room: .lobby, isOperator: false), "cluster: \(seam != nil)")
            #expect(!outbox.lines.contains("* You are an operator."))
        }
    }
}
