import NIOCore
import NIOPosix
import Testing

@testable import ChatBenchCore

@Suite("IRC lines")
struct IRCLineKindTests {
    static let lines: [(String, IRCLineKind)] = [
        (":irc.local 001 b1f0 :Welcome to the Localnet IRC Network b1f0!b1f0@127.0.0.1", .registered),
        (":irc.local 366 b1f0 #lobby :End of /NAMES list.", .endOfNames),
        (":irc.local 422 b1f0 :Message of the day file is missing.", .other),
        (":irc.local 433 * b1f0 :Nickname is already in use.", .error),
        (":irc.local 451 * PING :You have not registered.", .error),
        ("ERROR :Closing link: (b1f0@127.0.0.1) [Excess Flood]", .error),
        ("PING :irc.local", .ping(tokenOffset: 6)),
        ("PING irc.local", .ping(tokenOffset: 5)),
        ("PING", .ping(tokenOffset: 4)),
        (":irc.local PONG irc.local :barrier", .pong),
        (":b1f3!~b1f3@localhost PRIVMSG #lobby :0 7 123 xx", .chat(textOffset: 38)),
        (":b1f3!b1f3@127.0.0.1 PRIVMSG #lobby ::-) starts with a colon", .chat(textOffset: 37)),
        (":b1f3!b1f3@127.0.0.1 PRIVMSG #lobby word", .other),
        (":b1f3!b1f3@127.0.0.1 JOIN :#lobby", .other),
        (":irc.local 353 b1f0 = #lobby :b1f0 b1f1", .other),
        (":irc.local NOTICE b1f0 :*** You are connected", .other),
        (":irc.local", .other),
        (":", .other),
        ("", .other),
        ("12", .other),
    ]

    @Test(arguments: lines)
    func classifiesIRCLines(line: String, kind: IRCLineKind) {
        let got = Array(line.utf8).withUnsafeBytes { IRCLineKind.classify($0) }
        #expect(got == kind)
    }

    @Test func chatTextIsTheBenchmarkPayload() throws {
        let line = ":b1f3!~b1f3@localhost PRIVMSG #lobby :4 17 123456789 xxxx"
        let payload = Array(line.utf8).withUnsafeBytes { bytes -> BenchPayload? in
            guard case .chat(let offset) = IRCLineKind.classify(bytes) else { return nil }
            return BenchPayload.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        }
        #expect(payload == BenchPayload(sender: 4, sequence: 17, sentNanoseconds: 123_456_789))
    }

    @Test func messageIsAPrivmsgToTheRoomEndingInCRLF() {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        let payload = BenchPayload(sender: 2, sequence: 5, sentNanoseconds: 99)
        BenchProtocol.irc.writeMessage(payload, size: 16, room: "#lobby", into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "PRIVMSG #lobby :2 5 99 xxxxxxxxx\r\n")
        BenchProtocol.line.writeMessage(payload, size: 16, room: "#lobby", into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "2 5 99 xxxxxxxxx\n")
    }
}

/// chatbench's scenarios against ``IRCResponder``: they must register, join, answer the server's `PING`,
/// send `PRIVMSG`, and count every delivery once.
@Suite("chatbench speaks IRC", .serialized)
struct IRCDialectTests {
    @Test func fanoutRegistersJoinsAnswersPingAndCountsEveryDeliveryOnce() async throws {
        let responder = try await IRCResponder()
        let scenario = try FanoutScenario(clients: 6, senders: 3, messages: 40, bytes: 64)
        let result = try await Self.run(against: responder) { try await scenario.run($0) }
        #expect(result.figure("exactly_once_in_order") == .flag(true))
        #expect(result.figure("expected") == .int(3 * 40 * 5))
        #expect(result.figure("received") == .int(3 * 40 * 5))
        #expect(result.figure("errors") == .int(0))
        let seen = responder.seen
        #expect(seen.registrations == 6)
        #expect(seen.joins == 6)
        #expect(seen.pongs == 6)
        #expect(seen.wrongPongs == 0)
        #expect(seen.privmsgs == 3 * 40)
        #expect(seen.pings >= 6, "one barrier per client at least")
        #expect(seen.unknown == [])
        #expect(seen.bareLineFeeds == 0)
    }

    @Test func fanoutInRoomsLeavesTheLobbyAndSendsToItsRoom() async throws {
        let responder = try await IRCResponder()
        let scenario = try FanoutScenario(clients: 8, senders: 4, messages: 25, bytes: 32, rooms: 2)
        let result = try await Self.run(against: responder) { try await scenario.run($0) }
        #expect(result.figure("exactly_once_in_order") == .flag(true))
        #expect(result.figure("received") == .int(scenario.expectedDeliveries))
        let seen = responder.seen
        #expect(seen.joins == 16, "the lobby, then the room")
        #expect(seen.parts == 8)
        #expect(seen.privmsgs == 4 * 25)
        #expect(seen.unknown == [])
    }

    /// A server that echoes a line to its sender must not inflate the count: the echo is no delivery.
    @Test(arguments: [false, true])
    func latencyCountsDeliveriesNotEchoes(echo: Bool) async throws {
        let responder = try await IRCResponder(echo: echo)
        // All 40 lines leave within 20 ms, so every delivery (and echo) has landed by the scenario's first count.
        let scenario = try LatencyScenario(clients: 4, senders: 2, rate: 1000, seconds: 0.02, bytes: 64)
        let result = try await Self.run(against: responder) { try await scenario.run($0) }
        let expected = 2 * scenario.messagesPerSender * 3
        #expect(result.figure("expected") == .int(expected))
        #expect(result.figure("received") == .int(expected))
        #expect(responder.seen.privmsgs == 2 * scenario.messagesPerSender)
    }

    @Test(arguments: [false, true])
    func idleBroadcastReachesEveryOtherClient(echo: Bool) async throws {
        let responder = try await IRCResponder(echo: echo)
        let scenario = try IdleScenario(connections: 5, alternateRatio: 0, settleSeconds: 0, broadcast: true)
        let result = try await Self.run(against: responder) { try await scenario.run($0) }
        #expect(result.figure("broadcast_received") == .int(4))
        #expect(responder.seen.registrations == 5)
    }

    @Test func handshakeProbesGetALineByPinging() async throws {
        let responder = try await IRCResponder()
        let scenario = try HandshakeScenario(concurrency: 2, seconds: 0.3, resume: false)
        let result = try await Self.run(against: responder) { try await scenario.run($0) }
        #expect(result.figure("failed") == .int(0))
        guard case .int(let connections)? = result.figure("connections") else {
            Issue.record("no connection count")
            return
        }
        #expect(connections > 0)
        #expect(responder.seen.pings == connections)
        #expect(responder.seen.registrations == 0)
    }

    @Test func aBarrierWhosePongsNeverComeGivesUpAfterTheStallTimeout() async throws {
        let responder = try await IRCResponder(answersPings: false)
        let scenario = try IdleScenario(connections: 3, alternateRatio: 0, settleSeconds: 0, broadcast: false)
        let error = await #expect(throws: BenchError.self) {
            _ = try await Self.run(against: responder, stallTimeout: .milliseconds(500)) { try await scenario.run($0) }
        }
        // Not the watchdog's dropped connections a minute later: the barrier's own time-out.
        guard case .timedOut(let what)? = error else {
            Issue.record("expected the barrier to time out, got \(String(describing: error))")
            return
        }
        #expect(what.contains("3 of 3 clients got no pong"))
        #expect(responder.seen.pings == 3)
    }

    /// Runs a scenario against the responder in IRC, then stops it. A watchdog drops the responder's clients
    /// after a minute, so that a dialect that never logs in fails the test instead of hanging it.
    static func run(
        against responder: IRCResponder, stallTimeout: TimeAmount = .seconds(10),
        _ body: (BenchEnvironment) async throws -> BenchResult
    ) async throws -> BenchResult {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            await responder.dropClients()
        }
        defer { watchdog.cancel() }
        do {
            let shards = try await ShardSet.make(group: group)
            let environment = BenchEnvironment(
                connector: try Connector(group: group, shards: shards, sourceAddresses: []),
                target: BenchTarget(host: "127.0.0.1", port: responder.port, tls: nil, proto: .irc),
                alternateTarget: nil, namePrefix: "t", serverPID: nil,
                progress: ProgressReporter(label: "irc", enabled: false), loginConcurrency: 4,
                stallTimeout: stallTimeout)
            let result = try await body(environment)
            try await group.shutdownGracefully()
            await responder.stop()
            return result
        } catch {
            try? await group.shutdownGracefully()
            await responder.stop()
            throw error
        }
    }
}

extension BenchResult {
    func figure(_ key: String) -> Value? {
        figures.first { $0.key == key }?.value
    }
}
