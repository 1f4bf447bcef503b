import SecureChat
import Testing

extension EndToEnd {
    @Suite("Churn")
    struct ChurnTests {
        @Test(
            "50 clients quit, drop or reset while replies to them are queued: no crash, no lost line for those who stay"
        )
        func manyLeaving() async throws {
            try await withTestServer { server in
                let stayer = try await server.login("stayer")
                let talker = try await server.login("talker")
                var leavers: [TestClient] = []
                for index in 0..<50 { leavers.append(try await server.login("c\(index)")) }
                _ = try await stayer.sync()
                _ = try await talker.sync()
                let count = 500

                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for number in 0..<count { talker.send("n\(number)") }
                    }
                    for (index, client) in leavers.enumerated() {
                        group.addTask {
                            // Replies (help is 11 lines) queue up for a client that is about to vanish.
                            for _ in 0..<3 {
                                client.send("/help")
                                client.send("/users all")
                                client.send("/stats")
                                client.send("chatter from c\(index)")
                            }
                            switch index % 3 {
                            case 0: client.send("/quit bye from c\(index)")
                            case 1: await client.close()
                            default: await client.abort()
                            }
                        }
                    }
                }
                _ = try await talker.sync()

                // The stayer reads until every numbered line and every leave notice is in.
                var numbers: [Int] = []
                var left = Set<String>()
                var leaveNotices = 0
                while numbers.count < count || left.count < leavers.count {
                    guard let line = try await stayer.readLine() else { throw TestTimeout(waitingFor: "lines (EOF)") }
                    if line.hasPrefix("talker: n"), let number = Int(line.dropFirst("talker: n".count)) {
                        numbers.append(number)
                    } else if line.hasPrefix("* c"), line.contains(" left #lobby (") {
                        leaveNotices += 1
                        left.insert(String(line.dropFirst(2).prefix { $0 != " " }))
                    }
                }
                #expect(numbers == Array(0..<count))
                #expect(left.count == leavers.count)
                #expect(leaveNotices == leavers.count)
                #expect(await server.hub.onlineCount == 2)

                // The server still serves: a newcomer logs in and sees exactly who is left.
                let newcomer = try await server.login("newcomer")
                _ = try await newcomer.sync()
                newcomer.send("/users")
                #expect(
                    try await newcomer.readLine()
                        == "* 3 users in #lobby: newcomer [plaintext], stayer [op] [plaintext], talker [plaintext]")
                #expect(try await stayer.sync().last == "* newcomer joined #lobby")
            }
        }
    }
}
