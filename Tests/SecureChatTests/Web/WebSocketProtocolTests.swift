import Foundation
import NIOCore
import NIOWebSocket
import SecureChat
import Testing

/// A bot on the WebSocket JSON protocol (README.md, "Browsers and bots"), against a real server, beside
/// line-protocol users in the same rooms.
@Suite("WebSocket: the JSON protocol for bots")
struct WebSocketProtocolTests {
    @Test("a bot and a line user chat both ways; the bot gets history, joins, lists and DMs as typed objects")
    func botAndLineUserChat() async throws {
        try await withWebTestServer { server in
            let alice = try await lineUser("alice", on: server)
            alice.send("before the bot came")
            let bot = try await WebSocketTestClient.connect(port: server.port)
            defer { Task { await bot.close() } }
            bot.send(["type": "login", "name": "robot"])
            let welcome = try await bot.readUntil("the welcome") { $0["type"] as? String == "welcome" }
            #expect(welcome["name"] as? String == "robot")
            #expect(welcome["room"] as? String == "#lobby")
            #expect(welcome["others"] as? Int == 1)
            // alice's own join notice, then her line.
            let history = try await bot.readUntil("the history") { $0["type"] as? String == "history" }
            #expect(history["count"] as? Int == 2)
            let join = try await bot.readUntil("the replayed join") { $0["type"] as? String == "joined" }
            #expect(join["name"] as? String == "alice")
            #expect(join["replayed"] as? Bool == true)
            let replayed = try await bot.readUntil("the replayed line") { $0["type"] as? String == "message" }
            #expect(replayed["from"] as? String == "alice")
            #expect(replayed["text"] as? String == "before the bot came")
            #expect(replayed["replayed"] as? Bool == true)
            #expect((replayed["time"] as? String)?.hasSuffix("Z") == true)
            try await bot.readUntil("the end of history") { $0["type"] as? String == "history_end" }
            _ = try await alice.readUntil { $0 == "* robot joined #lobby" }

            alice.send("hello \"bot\" \\ <b>")
            let live = try await bot.readUntil("alice's line") { $0["type"] as? String == "message" }
            #expect(live["text"] as? String == "hello \"bot\" \\ <b>")
            #expect(live["room"] as? String == "#lobby")
            #expect(live["replayed"] == nil)

            bot.send(["type": "say", "text": "/not a command"])
            _ = try await alice.readUntil { $0 == "robot: /not a command" }
            bot.send(["type": "dm", "to": "alice", "text": "psst"])
            _ = try await alice.readUntil { $0 == "[dm] robot: psst" }
            let sent = try await bot.readUntil("the DM confirmation") { $0["type"] as? String == "dm_sent" }
            #expect(sent["to"] as? String == "alice")
            alice.send("/msg robot back")
            let dm = try await bot.readUntil("alice's DM") { $0["type"] as? String == "dm" }
            #expect(dm["from"] as? String == "alice")
            #expect(dm["text"] as? String == "back")

            bot.send(["type": "users"])
            let users = try await bot.readUntil("the member list") { $0["type"] as? String == "users" }
            let names = (users["users"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["alice", "robot"])
            #expect(users["total"] as? Int == 2)

            bot.send(["type": "join", "room": "#bots"])
            let entered = try await bot.readUntil("entering #bots") { $0["type"] as? String == "entered" }
            #expect(entered["room"] as? String == "#bots")
            let left = try await alice.readUntil { $0.hasPrefix("* robot left") }
            #expect(left == "* robot left #lobby (joined #bots)")
            bot.send(["type": "rooms"])
            let rooms = try await bot.readUntil("the room list") { $0["type"] as? String == "rooms" }
            #expect((rooms["rooms"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["#bots", "#lobby"])

            alice.send("/join #bots")
            let joined = try await bot.readUntil("alice joining") { $0["type"] as? String == "joined" }
            #expect(joined["name"] as? String == "alice")
            bot.send(["type": "ping"])
            try await bot.readUntil("the pong") { $0["type"] as? String == "pong" }
            bot.send(["type": "quit", "reason": "done"])
            _ = try await alice.readUntil { $0 == "* robot left #bots (quit: \"done\")" }
        }
    }

    @Test("bad JSON, a missing type, an unknown type and a binary frame get an error each; the connection stays")
    func invalidMessagesAreAnswered() async throws {
        try await withWebTestServer { server in
            let bot = try await WebSocketTestClient.connect(port: server.port)
            defer { Task { await bot.close() } }
            bot.send("{not json")
            let bad = try await bot.readUntil("the bad JSON error") { $0["type"] as? String == "error" }
            #expect(bad["text"] as? String == "That was not a JSON object.")
            bot.send(#"{"name":"x"}"#)
            let untyped = try await bot.readUntil("the missing type error") { $0["type"] as? String == "error" }
            #expect((untyped["text"] as? String)?.contains("\"type\"") == true)
            bot.send(["type": "teleport"])
            let unknown = try await bot.readUntil("the unknown type error") { $0["type"] as? String == "error" }
            #expect((unknown["text"] as? String)?.hasPrefix("Unknown message type") == true)
            bot.sendFrame(opcode: .binary, ByteBuffer(bytes: [1, 2, 3]))
            let binary = try await bot.readUntil("the binary frame error") { $0["type"] as? String == "error" }
            #expect((binary["text"] as? String)?.hasPrefix("Binary frames") == true)
            bot.send(["type": "say"])
            let missing = try await bot.readUntil("the missing field error") { $0["type"] as? String == "error" }
            #expect(missing["text"] as? String == "A \"say\" message needs a \"text\" string.")
            try await bot.login("survivor")
        }
    }

    @Test("a password nobody asked for is refused, never taken as a name; a second login is refused")
    func passwordOnlyWhenAsked() async throws {
        try await withWebTestServer { server in
            let alice = try await lineUser("alice", on: server)
            let bot = try await WebSocketTestClient.connect(port: server.port)
            defer { Task { await bot.close() } }
            bot.send(["type": "password", "password": "hunter2secret"])
            let refused = try await bot.readUntil("the refusal") { $0["type"] as? String == "error" }
            #expect(refused["text"] as? String == "No password was asked for: send a \"login\" first.")
            try await bot.login("robot")
            // Had the password been taken as a name, alice would have seen it join before robot.
            #expect(try await alice.readUntil { $0.hasSuffix("joined #lobby") } == "* robot joined #lobby")
            bot.send(["type": "login", "name": "another"])
            let again = try await bot.readUntil("the second login's refusal") { $0["type"] as? String == "error" }
            #expect(again["text"] as? String == "You are logged in already.")
        }
    }

    @Test("a client that never speaks JSON gets 20 errors, then a close with 1008")
    func endlessGarbageIsClosed() async throws {
        try await withWebTestServer { server in
            let bot = try await WebSocketTestClient.connect(port: server.port)
            defer { Task { await bot.close() } }
            for _ in 0..<25 { bot.send("garbage") }
            let (objects, code) = try await bot.readToEnd()
            // After the greeting's notices; the 20th answer goes out, then the close.
            let errors = objects.filter { $0["type"] as? String == "error" }
            #expect(errors.count == 20)
            #expect(objects.allSatisfy { $0["type"] as? String == "error" || $0["type"] as? String == "notice" })
            #expect(code == 1008)
        }
    }

    @Test("a frame over --max-line closes the connection with 1009; so does an unmasked frame, with 1002")
    func oversizedAndUnmaskedFrames() async throws {
        try await withWebTestServer({ $0.maximumLineBytes = 512 }) { server in
            let big = try await WebSocketTestClient.connect(port: server.port)
            defer { Task { await big.close() } }
            try await big.login("big")
            big.send(["type": "say", "text": String(repeating: "x", count: 600)])
            #expect(try await big.readToEnd().closeCode == 1009)

            let bare = try await WebSocketTestClient.connect(port: server.port)
            defer { Task { await bare.close() } }
            bare.sendFrame(opcode: .text, ByteBuffer(string: #"{"type":"ping"}"#), masked: false)
            #expect(try await bare.readToEnd().closeCode == 1002)
        }
    }

    @Test("the origin: the server's own and none are accepted, another is refused with 403, --web-origin allows it")
    func origins() async throws {
        try await withWebTestServer { server in
            let own = try await WebSocketTestClient.connect(
                port: server.port, origin: "http://127.0.0.1:\(server.port)")
            await own.close()
            let error = await #expect(throws: WebSocketTestClient.Refused.self) {
                _ = try await WebSocketTestClient.connect(port: server.port, origin: "https://evil.example")
            }
            #expect(error?.statusLine.hasPrefix("HTTP/1.1 403") == true)
            let version = await #expect(throws: WebSocketTestClient.Refused.self) {
                _ = try await WebSocketTestClient.connect(port: server.port, version: "8")
            }
            #expect(version?.statusLine.hasPrefix("HTTP/1.1 426") == true)
        }
        try await withWebTestServer({ $0.web.allowedOrigins = ["https://chat.example.org"] }) { server in
            let allowed = try await WebSocketTestClient.connect(port: server.port, origin: "https://chat.example.org")
            await allowed.close()
            await #expect(throws: WebSocketTestClient.Refused.self) {
                _ = try await WebSocketTestClient.connect(port: server.port, origin: "http://127.0.0.1:\(server.port)")
            }
        }
    }

    @Test("a flood of chat is rate limited as for any client, and ends in a disconnect")
    func floodIsLimited() async throws {
        try await withWebTestServer({
            $0.ratePerSecond = 5
            $0.burst = 10
            $0.floodRefusals = 20
        }) { server in
            let alice = try await lineUser("alice", on: server)
            let bot = try await WebSocketTestClient.connect(port: server.port)
            defer { Task { await bot.close() } }
            try await bot.login("flooder")
            for number in 0..<200 { bot.send(["type": "say", "text": "spam \(number)"]) }
            let (objects, _) = try await bot.readToEnd()
            #expect(objects.contains { ($0["text"] as? String)?.contains("too fast") == true })
            let leave = try await alice.readUntil { $0.hasPrefix("* flooder left") }
            #expect(leave.contains("flood"))
        }
    }

    @Test("over TLS: the page and a WebSocket on the TLS port")
    func overTLS() async throws {
        try await withWebTestServer { server in
            let bot = try await WebSocketTestClient.connect(port: server.tlsPort, tls: .plain)
            defer { Task { await bot.close() } }
            try await bot.login("secure")
            bot.send(["type": "users"])
            let users = try await bot.readUntil("the member list") { $0["type"] as? String == "users" }
            #expect((users["users"] as? [[String: Any]])?.first?["encrypted"] as? Bool == true)
        }
    }
}

/// A line-protocol user who types their name before the greeting, as `printf 'alice\n' | nc` does: under
/// ``withWebTestServer``'s long window a user who waited for the greeting would wait the window out (and, in the
/// sanitizer pass, the login timeout with it).
func lineUser(_ name: String, on server: TestServer) async throws -> TestClient {
    let client = try await server.connect()
    try await client.answerPrompt(name)
    return client
}

/// A test server whose connections wait up to 10 s for a first request: these tests' clients connect, then
/// send, and while the whole suite runs (and in the sanitizer pass) that gap passed the default 50 ms and once
/// 2 s; the default is sized for browsers, which send at once (or say so by ALPN).
func withWebTestServer<T: Sendable>(
    _ configure: (inout Configuration) -> Void = { _ in },
    _ body: (TestServer) async throws -> T
) async throws -> T {
    try await withTestServer(
        {
            $0.web.detectionWindow = SanitizedBuild.scaled(.seconds(10))
            configure(&$0)
        }, body)
}
