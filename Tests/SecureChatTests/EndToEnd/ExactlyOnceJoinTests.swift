import SecureChat
import Testing

extension EndToEnd {
    @Suite("Exactly once across a join")
    struct ExactlyOnceJoinTests {
        static let senders = 4
        /// Lines per sender in each round; the racing round 2 is long so that the join lands inside it.
        static let linesPerRound = [1: 40, 2: 300, 3: 40]

        /// Each sender sends its numbered lines for `round` from its own task. With `midway`, the first sender
        /// calls it halfway through its lines.
        private func chatter(_ clients: [TestClient], round: Int, midway: (@Sendable () -> Void)? = nil) async {
            await withTaskGroup(of: Void.self) { group in
                for (index, client) in clients.enumerated() {
                    group.addTask {
                        let count = Self.linesPerRound[round]!
                        for number in 0..<count {
                            client.send("s\(index)-r\(round)-\(number)")
                            if index == 0, number == count / 2 { midway?() }
                        }
                    }
                }
            }
        }

        @Test("a newcomer joining during concurrent chatter sees every line exactly once, replayed or live, in order")
        func exactlyOnce() async throws {
            // History large enough to hold everything said before the join: then "exactly once" is exact.
            try await withTestServer({
                $0.historyLines = 10_000
                $0.outboxBytes = 64 << 20  // room for the whole replay (the configuration check)
            }) { server in
                var clients: [TestClient] = []
                for index in 0..<Self.senders { clients.append(try await server.login("s\(index)")) }
                let senders = clients

                await chatter(senders, round: 1)  // before the join: must all be replayed
                for sender in senders { _ = try await sender.sync() }

                // The newcomer connects and gets its prompt first; its name goes out in the middle of round 2, so
                // the login step lands among the senders' lines at the hub.
                let newcomer = try await server.connect()
                _ = try await newcomer.readUntil { $0.hasPrefix("* Choose a username") }
                await chatter(senders, round: 2, midway: { newcomer.send("newcomer") })
                _ = try await newcomer.readUntil { $0.hasPrefix("* Welcome, newcomer!") }
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
                        (0..<Self.linesPerRound[round]!).map { "s\(index)-r\(round)-\($0)" }
                    }
                    #expect(perSender[index] == expected, "sender s\(index): missing, extra or out of order")
                    for number in 0..<Self.linesPerRound[1]! {
                        #expect(seen["s\(index)-r1-\(number)"]?.replayed == true)
                    }
                    for number in 0..<Self.linesPerRound[3]! {
                        #expect(seen["s\(index)-r3-\(number)"]?.replayed == false)
                    }
                    for number in 0..<Self.linesPerRound[2]! where seen["s\(index)-r2-\(number)"]?.replayed == true {
                        replayedInRound2 += 1
                    }
                }
                // Informational: how the racing round split between replay and live on this run.
                print(
                    "[exactly-once] round 2: \(replayedInRound2) replayed, \(Self.senders * Self.linesPerRound[2]! - replayedInRound2) live"
                )
            }
        }
    }
}
