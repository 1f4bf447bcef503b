import Logging
import NIOCore
import Testing

@testable import SecureChat

/// Issue 24, point 2: an operator cannot ban the internet, bans are rate-limited, and an operator by the
/// first-user rule never learns an address from `/bans` or `/unban`.
@Suite("Review 2: bans cannot reach the internet or reveal addresses")
struct BanSafetyTests {
    @Test(
        "networks wider than /16 (IPv4) or /32 (IPv6) are refused from chat",
        arguments: [
            ("::/0", 32), ("128.0.0.0/1", 16), ("0.0.0.0/0", 16), ("10.0.0.0/15", 16), ("2001:db8::/31", 32),
            ("::ffff:10.0.0.0/100", 16),
        ])
    func wideNetworksAreRefused(network: String, narrowest: Int) async throws {
        let chat = ReviewHub()
        try await chat.login("alice", id: 1)
        let bob = try await chat.login("bob", id: 2, address: "10.0.0.9")
        let outcome = await chat.hub.ban(by: ConnectionID(1), target: network, reason: nil)
        guard case .networkTooWide(_, let shown) = outcome else {
            Issue.record("\(network): \(outcome)")
            return
        }
        #expect(shown == narrowest)
        #expect(await chat.hub.bans.list.count == 0)
        #expect(bob.closeReasons.isEmpty)
        #expect(
            ReviewHub.rendered(.moderation(target: network, outcome, lifted: false)).first?.contains(
                "too wide to ban from chat") == true)
    }

    @Test("a /16 and a /32 are still banned from chat")
    func narrowEnoughNetworks() async throws {
        let chat = ReviewHub()
        try await chat.login("alice", id: 1)
        #expect(
            await chat.hub.ban(by: ConnectionID(1), target: "10.1.0.0/16", reason: nil)
                == .bannedNetwork("10.1.0.0/16", disconnected: 0))
        #expect(
            await chat.hub.ban(by: ConnectionID(1), target: "2001:db8::/32", reason: nil)
                == .bannedNetwork("2001:db8::/32", disconnected: 0))
    }

    @Test("a wide network from the ban file still refuses at login")
    func banFileMayHoldWideNetworks() async throws {
        let bans = BanStore(logger: Logger(label: "quiet"))
        _ = bans.add(
            Ban(name: nil, network: try IPNetwork("10.0.0.0/8"), bannedBy: "file", bannedAt: .now(), reason: nil))
        let chat = ReviewHub(bans: bans)
        await #expect(throws: ReviewHub.LoginRefused.self) { try await chat.login("bob", id: 2, address: "10.2.3.4") }
    }

    @Test("bans are rate-limited per operator")
    func bansAreRateLimited() async throws {
        let chat = ReviewHub { $0.banBurst = 3 }
        try await chat.login("alice", id: 1)
        for number in 0..<3 {
            #expect(
                await chat.hub.ban(by: ConnectionID(1), target: "10.0.\(number).0/24", reason: nil)
                    == .bannedNetwork("10.0.\(number).0/24", disconnected: 0))
        }
        try await chat.login("victim", id: 9)
        #expect(await chat.hub.ban(by: ConnectionID(1), target: "10.0.9.0/24", reason: nil) == .banningTooFast)
        #expect(await chat.hub.ban(by: ConnectionID(1), target: "victim", reason: nil) == .banningTooFast)
        #expect(await chat.hub.bans.list.count == 3)
        #expect(
            ReviewHub.rendered(.moderation(target: "victim", .banningTooFast, lifted: false))
                == ["! You are banning too fast; wait a minute and try again."])
    }

    @Test("an operator by the first-user rule sees names, reasons and #handles in /bans, never an address")
    func firstUserOperatorSeesNoAddresses() async throws {
        let chat = ReviewHub()
        try await chat.login("alice", id: 1, address: "198.51.100.1")
        try await chat.login("bob", id: 2, address: "203.0.113.77")
        #expect(await chat.hub.ban(by: ConnectionID(1), target: "bob", reason: "spam") == .done)
        #expect(await chat.hub.bans.list.bans.first?.address == "203.0.113.77")
        _ = await chat.hub.ban(by: ConnectionID(1), target: "192.0.2.0/24", reason: nil)

        let reply = await chat.ask(.bans(page: 1), from: 1)
        let lines = ReviewHub.rendered(reply)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines[0] == "* 2 bans:")
        #expect(lines[1].hasPrefix("*   #1 bob, by alice at "))
        #expect(lines[1].hasSuffix(": spam"))
        #expect(lines[2].hasPrefix("*   #2 a network, by alice at "))
        #expect(!lines.joined().contains("203.0.113"))
        #expect(!lines.joined().contains("192.0.2"))

        // Guessing the address at /unban tells nothing: it lifts only a ban on a network alone.
        #expect(await chat.hub.unban(by: ConnectionID(1), target: "203.0.113.77") == .notBanned)
        #expect(await chat.hub.bans.list.count == 2)
        // The handle lifts it, and a handle is never reused.
        #expect(await chat.hub.unban(by: ConnectionID(1), target: "#1") == .done)
        #expect(await chat.hub.bans.list.bans.map(\.name) == [nil])
        #expect(await chat.hub.unban(by: ConnectionID(1), target: "#1") == .notBanned)
        #expect(await chat.hub.unban(by: ConnectionID(1), target: "#x") == .notBanned)
        #expect(await chat.hub.unban(by: ConnectionID(1), target: "#2") == .done)
        #expect(await chat.hub.bans.list.count == 0)
    }

    @Test("an operator configured by certificate sees addresses and may lift by address")
    func configuredOperatorSeesAddresses() async throws {
        let fingerprint = String(repeating: "ab", count: 32)
        let chat = ReviewHub { $0.operatorFingerprints = [fingerprint] }
        try await chat.login("alice", id: 1, address: "198.51.100.1", fingerprint: fingerprint)
        try await chat.login("bob", id: 2, address: "203.0.113.77")
        #expect(await chat.hub.ban(by: ConnectionID(1), target: "bob", reason: nil) == .done)
        let lines = ReviewHub.rendered(await chat.ask(.bans(page: 1), from: 1))
        #expect(lines.count == 2)
        #expect(lines[1].hasPrefix("*   #1 bob / 203.0.113.77, by alice at "))
        #expect(await chat.hub.unban(by: ConnectionID(1), target: "203.0.113.77") == .done)
    }
}
