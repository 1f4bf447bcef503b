import Foundation
import Testing

@testable import SecureChat

/// Password attempts are throttled per account and address, and per address; never per account alone.
@Suite("Accounts: password attempts are throttled", .timeLimit(.minutes(2)))
struct AccountThrottleTests {
    static let accounts = [
        (name: "alice", password: Optional("alice's long password")),
        (name: "bob", password: Optional("bob's long password")),
        (name: "carol", password: Optional("carol's long password")),
    ]
    static let throttled = "! Too many password attempts for alice from your address; wait a minute and try again."

    /// One wrong password for `name` from `source`, on a connection of its own; returns the answer.
    static func wrongAttempt(_ name: String, _ server: TestServer, from source: String) async throws -> String? {
        let client = try await Accounts.atPasswordPrompt(name, server, from: source)
        client.send("certainly not it")
        let answer = try await client.readLine()
        await client.close()
        return answer
    }

    @Test("past the account-and-address burst, that address is refused for that account; other addresses are not")
    func perAccountAndAddress() async throws {
        try await Accounts.withServer(Self.accounts) {
            $0.accountLimits.attemptsPerAccountAndAddress = .init(perSecond: 0.0001, burst: 2)
        } _: { server, _ in
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.2") == "! Wrong password for alice.")
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.2") == "! Wrong password for alice.")
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.2") == Self.throttled)
            // Even the right password: the bucket is checked before the hash.
            let refused = try await Accounts.atPasswordPrompt("alice", server, from: "127.0.0.2")
            refused.send("alice's long password")
            #expect(try await refused.readLine() == Self.throttled)
            #expect(try await refused.readLine() == Accounts.prompt)
            // The same address may still try another account, and alice may still log in from elsewhere: a
            // guesser cannot lock her out.
            #expect(try await Self.wrongAttempt("bob", server, from: "127.0.0.2") == "! Wrong password for bob.")
            _ = try await Accounts.loggedIn("alice", password: "alice's long password", server, from: "127.0.0.3")
        }
    }

    @Test("only wrong passwords are charged: right ones from one address go on logging in")
    func successIsFree() async throws {
        try await Accounts.withServer(Self.accounts) {
            $0.accountLimits.attemptsPerAccountAndAddress = .init(perSecond: 0.0001, burst: 2)
            $0.accountLimits.attemptsPerAddress = .init(perSecond: 0.0001, burst: 2)
        } _: { server, _ async throws in
            for _ in 1...4 {
                let alice = try await Accounts.loggedIn(
                    "alice", password: "alice's long password", server, from: "127.0.0.6")
                await alice.close()
            }
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.6") == "! Wrong password for alice.")
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.6") == "! Wrong password for alice.")
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.6") == Self.throttled)
        }
    }

    @Test("past the address burst, that address is refused for every account")
    func perAddress() async throws {
        try await Accounts.withServer(Self.accounts) {
            $0.accountLimits.attemptsPerAddress = .init(perSecond: 0.0001, burst: 3)
        } _: { server, _ async throws in
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.4") == "! Wrong password for alice.")
            #expect(try await Self.wrongAttempt("bob", server, from: "127.0.0.4") == "! Wrong password for bob.")
            #expect(try await Self.wrongAttempt("carol", server, from: "127.0.0.4") == "! Wrong password for carol.")
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.4") == Self.throttled)
            #expect(try await Self.wrongAttempt("alice", server, from: "127.0.0.5") == "! Wrong password for alice.")
        }
    }

    @Test("with the hashing pool full, a password gets the busy reply and the prompt again")
    func busy() async throws {
        // One thread, nobody waiting, and a hash that takes a while (about 0.4 s here; longer on a loaded machine,
        // which only widens the window): the second check finds the pool full.
        let slow = PasswordHashParameters(memoryKiB: 128 * 1024, passes: 4, lanes: 1)
        let (directory, path) = try await Accounts.file(
            [(name: "alice", password: "alice's long password")], parameters: slow)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withTestServer({
            $0.accountFilePath = path
            $0.accountLimits.hashParameters = slow
            $0.accountLimits.hashingThreads = 1
            $0.accountLimits.hashingQueue = 0
        }) { server in
            let first = try await Accounts.atPasswordPrompt("alice", server)
            let second = try await Accounts.atPasswordPrompt("alice", server)
            // Sent together: whichever is checked first holds the one thread for the whole hash, and the other
            // finds the pool full.
            first.send("alice's long password")
            second.send("alice's long password")
            let answers = [try await first.readLine(), try await second.readLine()]
            let busy = try #require(answers.firstIndex(of: "! The server is busy; try again shortly."), "\(answers)")
            #expect(try await [first, second][busy].readLine() == Accounts.prompt)
            #expect(answers[1 - busy]?.hasPrefix("* Welcome back, alice!") == true, "\(answers)")
        }
    }
}
