import NIOCore
import Testing

@testable import SecureChat

/// Issue 24, point 10: rooms and history cannot be exhausted: room creation per address, history bounded by
/// bytes per room and in total.
@Suite("Review 2: room creation per address, history bytes per room and in total")
struct RoomAndHistoryBoundTests {
    @Test("one address may open only so many rooms; another address still can")
    func roomCreationPerAddress() async throws {
        let chat = ReviewHub {
            $0.roomCreationBurst = 2
            $0.roomsCreatedPerMinute = 0.001
        }
        for id in 1...3 { try await chat.login("user\(id)", id: UInt64(id), address: "198.51.100.1") }
        try await chat.login("other", id: 4, address: "198.51.100.2")
        #expect(await chat.ask(.join(RoomName(parsing: "#a")!), from: 1) == .join(RoomName(parsing: "#a")!, .joined))
        #expect(await chat.ask(.join(RoomName(parsing: "#b")!), from: 2) == .join(RoomName(parsing: "#b")!, .joined))
        #expect(
            await chat.ask(.join(RoomName(parsing: "#c")!), from: 3)
                == .join(RoomName(parsing: "#c")!, .creatingTooFast))
        // Joining a room that exists costs nothing.
        #expect(await chat.ask(.join(RoomName(parsing: "#a")!), from: 3) == .join(RoomName(parsing: "#a")!, .joined))
        #expect(await chat.ask(.join(RoomName(parsing: "#c")!), from: 4) == .join(RoomName(parsing: "#c")!, .joined))
        #expect(
            ReviewHub.rendered(.join(RoomName(parsing: "#c")!, .creatingTooFast))
                == ["! Your address has opened too many rooms lately; join an existing one (/rooms)."])
    }

    private func entry(_ text: String) -> History.Entry {
        History.Entry(time: .now(), line: ByteBuffer(string: text + "\n"))
    }

    @Test("a room's history lets its oldest lines go past its bytes")
    func historyBytesPerRoom() {
        var history = History(capacity: 50, byteCapacity: 30)
        for number in 0..<5 { history.append(entry("line \(number) 123")) }  // 11 bytes each
        #expect(history.count == 2)
        #expect(history.bytes == 22)
        #expect(history.entries.map { String(buffer: $0.line) } == ["line 3 123\n", "line 4 123\n"])
        #expect(history.append(entry(String(repeating: "x", count: 40))) == 3)
        #expect(history.isEmpty && history.bytes == 0)
    }

    @Test("all rooms' history together stays within its bytes, the oldest lines of any room going first")
    func historyBytesTotal() async throws {
        // Lines of "userN: line-X\n", 16 bytes; join notices too. 100 bytes in all.
        let chat = ReviewHub {
            $0.historyBytesTotal = 100
            $0.historyBytesPerRoom = 1000
        }
        try await chat.login("user1", id: 1)
        try await chat.login("user2", id: 2)
        _ = await chat.ask(.join(RoomName(parsing: "#other")!), from: 2)
        for number in 0..<10 {
            await chat.hub.say(ConnectionID(1), "lobby-\(number)")
            await chat.hub.say(ConnectionID(2), "other-\(number)")
        }
        let lobby = await chat.hub.rooms[.lobby]!.history
        let other = await chat.hub.rooms[RoomName(parsing: "#other")!]!.history
        #expect(lobby.bytes + other.bytes <= 100)
        #expect(await chat.hub.historyBudget.bytes == lobby.bytes + other.bytes)
        // The newest lines of both rooms are kept; the oldest of either went first.
        #expect(lobby.entries.map { String(buffer: $0.line) }.last == "user1: lobby-9\n")
        #expect(other.entries.map { String(buffer: $0.line) }.last == "user2: other-9\n")
        #expect(lobby.count + other.count == 6)
        // A room that closes gives its bytes back.
        _ = await chat.ask(.leave, from: 2)
        #expect(await chat.hub.rooms[RoomName(parsing: "#other")!] == nil)
        #expect(await chat.hub.historyBudget.bytes == chat.hub.rooms[.lobby]!.history.bytes)
    }

    @Test("the total's queue of lines stays bounded while rooms let lines go themselves and close")
    func historyQueueStaysBounded() async throws {
        let chat = ReviewHub {
            $0.historyLines = 5
            $0.roomCreationBurst = 1000
        }
        try await chat.login("user1", id: 1)
        for round in 0..<50 {
            let room = RoomName(parsing: "#r\(round)")!
            _ = await chat.ask(.join(room), from: 1)
            for number in 0..<40 { await chat.hub.say(ConnectionID(1), "line \(number)") }
        }
        _ = await chat.ask(.leave, from: 1)
        let budget = await chat.hub.historyBudget
        let stored = await chat.hub.rooms.values.reduce(0) { $0 + $1.history.count }
        #expect(budget.lines == stored)
        #expect(budget.queuedCount <= 2 * stored + 64 + 1)
        #expect(budget.bytes == (await chat.hub.rooms.values.reduce(0) { $0 + $1.history.bytes }))
    }

    @Test("--help names the history bounds")
    func historyBoundsInHelp() async throws {
        let (status, help) = try await ProcessRunner.runToEnd(DaemonProcess.executable, ["--help"])
        #expect(status == 0)
        #expect(help.contains("--history-bytes"))
        #expect(help.contains("--history-total-bytes"))
        #expect(help.contains("--address-rate"))
    }
}
