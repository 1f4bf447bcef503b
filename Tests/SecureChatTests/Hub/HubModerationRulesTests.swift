import Logging
import NIOConcurrencyHelpers
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

    @Test("a holder of a configured operator certificate is never locked out by a name or address ban")
    func configuredOperatorsAreNeverBanned() async throws {
        let fingerprint = String(repeating: "c", count: 64)
        let bans = BanStore(logger: Logger(label: "quiet"))
        _ = bans.add(Ban(name: "root-op", address: "192.0.2.7", bannedBy: "x", bannedAt: .now(), reason: nil))
        var logger = Logger(label: "hub-rules-test")
        logger.logLevel = .critical
        let hub = Hub(configuration: HubConfiguration(operatorFingerprints: [fingerprint]), bans: bans, logger: logger)
        let name = try Username.validate("Root-Op").get()
        // Same banned name and the banned address, but the certificate of a configured operator.
        #expect(
            await hub.login(Self.info(7, fingerprint: fingerprint), name: name, outbox: MemoryOutbox())
                == .loggedIn(room: .lobby, isOperator: true)
        )
        // Without the certificate: the address is refused first, then (from elsewhere) the name.
        #expect(
            await hub.login(Self.info(7), name: try Username.validate("other").get(), outbox: MemoryOutbox())
                == .addressBanned)
        #expect(
            await hub.login(Self.info(8), name: try Username.validate("R00T-0P").get(), outbox: MemoryOutbox())
                == .nameBanned)
    }

    @Test("an operator cannot ban the network they connect from; a user sharing it loses only the name")
    func ownNetwork() async throws {
        let hub = Self.hub()
        // Everyone here comes from 192.0.2.(id % 250): ids 1 and 251 share an address.
        try await Self.login(hub, "alice", id: 1)
        try await Self.login(hub, "bob", id: 251)
        try await Self.login(hub, "carol", id: 3)
        #expect(await hub.ban(by: ConnectionID(1), target: "192.0.2.0/24", reason: nil) == .ownNetwork("192.0.2.0/24"))
        #expect(await hub.ban(by: ConnectionID(1), target: "192.0.2.1", reason: nil) == .ownNetwork("192.0.2.1"))
        #expect(await hub.ban(by: ConnectionID(1), target: "bob", reason: nil) == .bannedNameOnly)
        #expect(await hub.banList(seenBy: ConnectionID(1))?.map(\.address) == [nil])
        #expect(await hub.ban(by: ConnectionID(1), target: "carol", reason: nil) == .done)
        #expect(await hub.banList(seenBy: ConnectionID(1))?.last?.address == "192.0.2.3")
    }

    @Test("a network ban disconnects everyone inside it, but no operator")
    func networkBan() async throws {
        let hub = Self.hub()
        try await Self.login(hub, "alice", id: 1)
        let inside = try await Self.login(hub, "bob", id: 20)
        let alsoInside = try await Self.login(hub, "carol", id: 21)
        let outside = try await Self.login(hub, "dave", id: 40)
        #expect(
            await hub.ban(by: ConnectionID(1), target: "192.0.2.16/28", reason: "botnet")
                == .bannedNetwork("192.0.2.16/28", disconnected: 2)
        )
        #expect(inside.closeReasons == ["banned by alice"])
        #expect(alsoInside.closeReasons == ["banned by alice"])
        #expect(outside.closeReasons.isEmpty)
        #expect(await hub.onlineCount == 2)
        #expect(
            await hub.login(Self.info(30), name: try Username.validate("erin").get(), outbox: MemoryOutbox())
                == .addressBanned)
    }

    @Test("per-event log lines are rate-limited: a login storm logs at most the limit and counts the rest")
    func loginStormLogsAreBounded() async throws {
        let capture = LogLines()
        var logger = Logger(label: "hub-log-test") { _ in LineCountingHandler(lines: capture) }
        logger.logLevel = .info
        let hub = Hub(logger: logger)
        for number in 1...200 {
            _ = await hub.login(
                Self.info(UInt64(number)), name: try Username.validate("u\(number)").get(), outbox: MemoryOutbox())
        }
        let logged = capture.messages.filter { $0.hasPrefix("user logged in") }.count
        #expect(logged < 200)
        #expect(logged + hub.loginLog.totalSuppressed == 200)
    }
}

/// Messages a `LineCountingHandler` received.
private final class LogLines: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    func append(_ message: String) { box.withLockedValue { $0.append(message) } }
    var messages: [String] { box.withLockedValue { $0 } }
}

private struct LineCountingHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.append("\(event.message)")
    }
}
