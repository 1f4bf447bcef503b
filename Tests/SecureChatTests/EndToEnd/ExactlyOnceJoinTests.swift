import SecureChat
import Testing

extension EndToEnd {
    @Suite("Exactly once across a join")
    struct ExactlyOnceJoinTests {
        static let senders = 4
        static let linesPerRound = 40

        /// Each sender sends its numbered lines for `round` from its own task.
        private func chatter(_ clients: [TestClient], round: Int) async {
            await withTaskGroup(of: Void.self) { group in
                for (index, client) in clients.enumerated() {
                    group.addTask {
                        for number in 0..<Self.linesPerRound { client.send("s\(index)-r\(round)-\(number)") }
                    }
                }
            }
        }

        @Test("a newcomer joining during concurrent chatter sees every line exactly once, replayed or live, in order")
        func exactlyOnce() async throws {
            // History large enough to hold everything said before the join: then "exactly once" is exact.
            try await withTestServer({ $0.historyLines = 10_000 }) { server in
                var clients: [TestClient] = []
                for index in 0..<Self.senders { clients.append(try await server.login("s\(index)")) }
                let senders = clients

                await chatter(senders, round: 1)  // before the join: must all be replayed
                for sender in senders { _ = try await sender.sync() }

                let newcomer = try await withThrowingTaskGroup(of: TestClient?.self) { group in
                    group.addTask {
                        await chatter(senders, round: 2)  // races the join: replayed or live
                        return nil
                    }
                    group.addTask { try await server.login("newcomer") }
                    var newcomer: TestClient?
                    for try await result in group { if let result { newcomer = result } }
                    return try #require(newcomer)
                }
                await chatter(senders, round: 3)  // after the join: must all be live
                for sender in senders { _ = try await sender.sync() }
                let lines = try await newcomer.sync()

                var seen: [String: (index: Int, replayed: Bool)] = [:]
                var duplicates: [String] = []
                var perSender = Array(repeating: [String](), count: Self.senders)
                for (position, line) in lines.enumerated() {
                    let replayedText = ReplayMark.strip(line)
                    let text = replayedText ?? line
                    guard let colon = text.firstIndex(of: ":"), text.hasPrefix("s") else { continue }
                    let name = String(text[..<colon])
                    let body = String(text[text.index(colon, offsetBy: 2)...])
                    guard body.hasPrefix(name + "-r"), let index = Int(name.dropFirst()) else { continue }
                    if seen[body] != nil { duplicates.append(body) }
                    seen[body] = (position, replayedText != nil)
                    perSender[index].append(body)
                }
                #expect(duplicates.isEmpty, "seen twice: \(duplicates.prefix(10))")
                var replayedInRound2 = 0
                for index in 0..<Self.senders {
                    let expected = (1...3).flatMap { round in
                        (0..<Self.linesPerRound).map { "s\(index)-r\(round)-\($0)" }
                    }
                    #expect(perSender[index] == expected, "sender s\(index): missing, extra or out of order")
                    for number in 0..<Self.linesPerRound {
                        #expect(seen["s\(index)-r1-\(number)"]?.replayed == true)
                        #expect(seen["s\(index)-r3-\(number)"]?.replayed == false)
                        if seen["s\(index)-r2-\(number)"]?.replayed == true { replayedInRound2 += 1 }
                    }
                }
                // Informational: how the racing round split between replay and live on this run.
                print("[exactly-once] round 2: \(replayedInRound2) replayed, \(Self.senders * Self.linesPerRound - replayedInRound2) live")
            }
        }
    }
}
