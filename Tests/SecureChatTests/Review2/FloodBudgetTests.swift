import NIOCore
import Testing

@testable import SecureChat

/// Issue 24, point 5: floods from several connections of one address, DMs piling onto one recipient, and
/// `/ignore`.
@Suite("Review 2: shared budgets against floods, and /ignore")
struct FloodBudgetTests {
    @Test("an address's connections share one budget of lines; its /48 shares a wider one")
    func linesSharedByAnAddress() {
        let budget = AddressLineBudget(linesPerSecond: 2, bytesPerSecond: 0)
        let now = NIODeadline.now()
        let keys = AddressLineBudget.keys(for: "192.0.2.7")
        #expect(keys == ["192.0.2.7"])
        // Burst 4 (two seconds), whichever connection sends: the fifth line is refused.
        for _ in 0..<4 { #expect(budget.admit(keys: keys, bytes: 10, now: now)) }
        #expect(!budget.admit(keys: keys, bytes: 10, now: now))
        #expect(budget.admit(keys: AddressLineBudget.keys(for: "192.0.2.8"), bytes: 10, now: now))
        #expect(budget.admit(keys: keys, bytes: 10, now: now + .seconds(1)))

        #expect(
            AddressLineBudget.keys(for: "2001:db8:1:2:3:4:5:6") == ["2001:db8:1:2::/64", "2001:db8:1::/48"])
        // A /48 rotating through its /64s runs into the /48's budget: 4 times one /64's (16 lines).
        var admitted = 0
        for subnet in 0..<40 {
            if budget.admit(keys: AddressLineBudget.keys(for: "2001:db8:1:\(subnet)::1"), bytes: 1, now: now) {
                admitted += 1
            }
        }
        #expect(admitted == 16)
    }

    @Test("the byte budget counts bytes after sanitising, where an invalid byte becomes three")
    func bytesAfterSanitising() async throws {
        try await withTestServer({
            $0.addressBytesPerSecond = 1000  // burst 2000 bytes
        }) { server in
            let alice = try await Self.loginFromElsewhere("alice", server)
            let bob = try await server.login("bob")
            _ = try await alice.sync()
            // 400 invalid bytes are 1200 bytes of U+FFFD: the first line fits the burst, the second does not,
            // though 800 raw bytes would.
            let invalid = [UInt8](repeating: 0xFF, count: 400) + [UInt8(ascii: "\n")]
            bob.sendRaw(invalid)
            bob.sendRaw(invalid)
            let refusal = try await bob.readUntil { $0.hasPrefix("! ") }
            #expect(
                refusal == "! Your address is sending too fast (all its connections together); that line was dropped.")
            let received = try await alice.sync()
            #expect(received.filter { $0.hasPrefix("bob: ") }.count == 1)
        }
    }

    @Test("two connections of one address share the line budget end to end")
    func connectionsShareTheBudget() async throws {
        try await withTestServer({
            // Burst 1: one line, then one every 2 s. (At 1/s with a burst of 2, a loaded sanitizer run once took
            // over a second between bob's line and carol's second, and the refilled token let it through.)
            $0.addressLinesPerSecond = 0.5
        }) { server in
            let alice = try await Self.loginFromElsewhere("alice", server)
            let bob = try await server.login("bob")
            let carol = try await server.login("carol")
            // (No sync of alice's before the end: her address's budget has one line too, for her closing ping.)
            bob.send("one")
            _ = try await alice.readUntil("bob's line") { $0 == "bob: one" }
            // Carol's own connection has sent nothing: only a budget shared with bob's refuses her first line.
            carol.send("two")
            let refusal = try await carol.readUntil("carol's refusal") { $0.hasPrefix("! ") }
            #expect(refusal.hasPrefix("! Your address is sending too fast"))
            let received = try await alice.sync()
            #expect(received.filter { !$0.hasPrefix("* ") }.isEmpty)
        }
    }

    /// A user on another loopback address (127.0.0.2), whose lines (and `/ping`s) are not charged to 127.0.0.1.
    private static func loginFromElsewhere(_ name: String, _ server: TestServer) async throws -> TestClient {
        let client = try await TestClient.loggedIn(name, port: server.port, from: "127.0.0.2")
        server.track(client)
        return client
    }

    @Test("DMs to one recipient have a budget shared by every sender")
    func directMessagesPerRecipient() async throws {
        let chat = ReviewHub {
            $0.directMessageBurst = 3
            $0.directMessagesPerSecond = 0.001
        }
        let victim = try await chat.login("victim", id: 1)
        for id in 2...5 { try await chat.login("sender\(id)", id: UInt64(id)) }
        victim.clear()
        for id in 2...4 {
            #expect(await chat.hub.directMessage(from: ConnectionID(UInt64(id)), to: "victim", "hi") == .sent)
        }
        #expect(await chat.hub.directMessage(from: ConnectionID(5), to: "victim", "hi") == .recipientBusy)
        #expect(victim.lines.count == 3)
        #expect(
            ReviewHub.rendered(.directMessage(to: "victim", .recipientBusy))
                == ["! victim is getting too many direct messages; yours was not sent. Try again soon."])
        // Someone else can still be reached.
        #expect(await chat.hub.directMessage(from: ConnectionID(5), to: "sender2", "hi") == .sent)
    }

    @Test("/ignore hides a user's chat lines and DMs for the session; /unignore and the list")
    func ignore() async throws {
        let chat = ReviewHub()
        let alice = try await chat.login("alice", id: 1)
        let bob = try await chat.login("bob", id: 2)
        let carol = try await chat.login("carol", id: 3)
        #expect(await chat.ask(.ignore("B0B"), from: 3) == .ignore(.ignoring("bob")))
        #expect(await chat.ask(.ignore("carol"), from: 3) == .ignore(.toSelf))
        #expect(await chat.ask(.ignore("nobody"), from: 3) == .ignore(.noSuchUser))
        #expect(await chat.ask(.ignore(nil), from: 3) == .ignore(.list(["bob"])))
        for outbox in [alice, bob, carol] { outbox.clear() }

        await chat.hub.say(ConnectionID(2), "noise")
        #expect(await chat.hub.directMessage(from: ConnectionID(2), to: "carol", "psst") == .sent)
        await chat.hub.say(ConnectionID(1), "hello")
        #expect(alice.lines == ["bob: noise"])
        #expect(carol.lines == ["alice: hello"])
        #expect(bob.lines == ["[dm -> carol] psst", "alice: hello"])

        #expect(await chat.ask(.unignore("bob"), from: 3) == .ignore(.unignored("bob")))
        #expect(await chat.ask(.unignore("bob"), from: 3) == .ignore(.notIgnored))
        await chat.hub.say(ConnectionID(2), "back")
        #expect(carol.lines.last == "bob: back")
        #expect(ReviewHub.rendered(.ignore(.list([]))) == ["* You are ignoring nobody."])
        #expect(ReviewHub.rendered(.ignore(.list(["bob", "dave"]))) == ["* Ignoring: bob, dave"])
        #expect(Command.parse("/ignore bob") == .success(.ignore(user: "bob")))
        #expect(Command.parse("/ignore") == .success(.ignore(user: nil)))
        #expect(Command.parse("/unignore bob") == .success(.unignore(user: "bob")))
        #expect(Command.parse("/unignore") == .failure(.usage("/unignore <user>")))
    }

    @Test("end to end: /ignore, the list, and /unignore")
    func ignoreOverTheWire() async throws {
        try await withTestServer { server in
            let alice = try await server.login("alice")
            let bob = try await server.login("bob")
            let carol = try await server.login("carol")
            _ = try await carol.sync()
            carol.send("/ignore bob")
            #expect(try await carol.readLine() == "* Ignoring bob: you will not see their lines or DMs.")
            bob.send("noise")
            bob.send("/msg carol psst")
            #expect(try await bob.readUntil { $0.hasPrefix("[dm -> ") } == "[dm -> carol] psst")
            alice.send("hello")
            _ = try await alice.sync()
            #expect(try await carol.sync() == ["alice: hello"])
            carol.send("/ignore")
            #expect(try await carol.readLine() == "* Ignoring: bob")
            carol.send("/unignore BOB")
            #expect(try await carol.readLine() == "* No longer ignoring bob.")
            bob.send("back")
            _ = try await bob.sync()
            #expect(try await carol.sync() == ["bob: back"])
        }
    }

    @Test("an ignorer who leaves is forgotten: the ignored user's lines go the ordinary way again")
    func ignorerLeaves() async throws {
        let chat = ReviewHub()
        let alice = try await chat.login("alice", id: 1)
        try await chat.login("bob", id: 2)
        _ = await chat.ask(.ignore("bob"), from: 1)
        #expect(await chat.hub.ignorers["bob"] == [ConnectionID(1)])
        await chat.hub.remove(ConnectionID(1), reason: .quit(message: nil))
        #expect(await chat.hub.ignorers.isEmpty)
        #expect(alice.closeReasons == ["quit"])
    }
}
