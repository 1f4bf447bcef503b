import Logging
import NIOCore
import Testing

@testable import SecureChat

/// Operator and listing rules of the hub (security review, issue 11), with in-memory outboxes.
@Suite("Hub: operator rules and bounded listings")
struct HubModerationRulesTests {
    private static func hub(_ configure: (inout HubConfiguration) -> Void = { _ in }) -> Hub {
        var logger = Logger(label: "hub-rules-test")
        logger.logLevel = .critical
        var configuration = HubConfiguration()
        configure(&configuration)
        return Hub(configuration: configuration, logger: logger)
    }

    private static func info(_ id: UInt64, fingerprint: String? = nil) -> ClientInfo {
        ClientInfo(
            id: ConnectionID(id), address: "192.0.2.\(id % 250)", transport: .plaintext, connectedAt: .now(),
            certificateFingerprint: fingerprint
        )
    }

    @discardableResult
    private static func login(
        _ hub: Hub,
        _ name: String,
        id: UInt64,
        fingerprint: String? = nil,
        capacity: Int? = nil
    ) async throws -> MemoryOutbox {
        let outbox = MemoryOutbox(capacity: capacity)
        let outcome = await hub.login(
            info(id, fingerprint: fingerprint), name: try Username.validate(name).get(), outbox: outbox
        )
        guard case .loggedIn = outcome else {
            Issue.record("\(name) could not log in: \(outcome)")
            return outbox
        }
        return outbox
    }

    @Test("/users lists the first 200 in name order and counts everyone; /rooms likewise")
    func boundedListings() async throws {
        let hub = Self.hub()
        // Logged in out of order, so the listing's order comes from the index, not from arrival.
        for number in (1...250).reversed() {
            try await Self.login(hub, String(format: "user%03d", number), id: UInt64(number))
        }
        guard case .users(let list) = await hub.handle(.users(all: true), from: ConnectionID(1)) else {
            Issue.record("not a users reply")
            return
        }
        #expect(list.total == 250)
        #expect(list.entries.count == 200)
        #expect(list.entries.first?.name == "user001")
        #expect(list.entries.last?.name == "user200")
        #expect(list.entries.map(\.name) == list.entries.map(\.name).sorted())

        for number in 1...3 {
            _ = await hub.handle(.join(RoomName(parsing: "#r\(4 - number)")!), from: ConnectionID(UInt64(number)))
        }
        guard case .rooms(let rooms) = await hub.handle(.rooms, from: ConnectionID(1)) else {
            Issue.record("not a rooms reply")
            return
        }
        #expect(rooms.entries.map(\.name.value) == ["#lobby", "#r1", "#r2", "#r3"])
        #expect(rooms.total == 4)
        guard case .users(let room) = await hub.handle(.users(all: false), from: ConnectionID(3)) else {
            Issue.record("not a users reply")
            return
        }
        #expect(room.total == 1)
        #expect(room.entries.map(\.name) == ["user003"])
    }

    @Test("configured operators cannot kick or ban each other")
    func operatorsCannotRemoveEachOther() async throws {
        let first = String(repeating: "a", count: 64)
        let second = String(repeating: "b", count: 64)
        let hub = Self.hub { $0.operatorFingerprints = [first, second] }
        try await Self.login(hub, "alice", id: 1, fingerprint: first)
        let bob = try await Self.login(hub, "bob", id: 2, fingerprint: second)
        #expect(await hub.kick(by: ConnectionID(1), target: "bob", reason: nil) == .targetIsOperator)
        #expect(await hub.ban(by: ConnectionID(2), target: "alice", reason: nil) == .targetIsOperator)
        #expect(await hub.onlineCount == 2)
        #expect(bob.closeReasons.isEmpty)
    }

    @Test("an idle first-user operator hands the role to the longest-connected user who has spoken")
    func idleOperatorHandsOver() async throws {
        let hub = Self.hub { $0.operatorIdleLimit = .milliseconds(200) }
        let alice = try await Self.login(hub, "alice", id: 1)
        try await Self.login(hub, "bob", id: 2)
        let carol = try await Self.login(hub, "carol", id: 3)
        #expect(await hub.isOperator(ConnectionID(1)))
        // bob logged in before carol but never speaks; carol does.
        _ = await hub.handle(.say("hello"), from: ConnectionID(3))
        #expect(await hub.isOperator(ConnectionID(1)), "not idle long enough yet")
        try await Task.sleep(for: .milliseconds(400))
        _ = await hub.handle(.say("still here"), from: ConnectionID(3))
        #expect(!(await hub.isOperator(ConnectionID(1))))
        #expect(!(await hub.isOperator(ConnectionID(2))))
        #expect(await hub.isOperator(ConnectionID(3)))
        #expect(carol.lines.contains("* carol is now the operator (alice has been idle)."))
        #expect(alice.lines.contains("* You are no longer the operator: you have been idle too long."))
    }

    @Test("a kicked client who stopped reading leaves as kicked, not as an overflow")
    func kickedSlowReader() async throws {
        let hub = Self.hub()
        try await Self.login(hub, "alice", id: 1)
        let witness = try await Self.login(hub, "carol", id: 3)
        // bob stops reading: his outbox fills up to its capacity, so the farewell overflows it.
        let bob = try await Self.login(hub, "bob", id: 2, capacity: 20)
        while bob.lines.count < 20 { await hub.say(ConnectionID(3), "filler") }
        #expect(await hub.kick(by: ConnectionID(1), target: "bob", reason: "spam") == .done)
        #expect(witness.lines.last == "* bob was kicked by alice (\"spam\")")
        #expect(bob.closeReasons.first == "kicked by alice")
        #expect(await hub.currentStatistics().overflowEvictions == 0)
    }
}
