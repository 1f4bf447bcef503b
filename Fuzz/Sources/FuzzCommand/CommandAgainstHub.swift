import Dispatch
import FuzzSupport
import Logging
import NIOCore
import SecureChat

// A parsed command is also run for real: typed by the operator (the first user) and by an ordinary user, through
// their session state machines and a hub, the way `Session` carries actions out. A trap anywhere on that path
// (the hub's arithmetic on a client's number, a reply's rendering) stops the fuzzer and is a finding; so is a
// line that reaches a client without its one newline, or with a control character in it.

/// One member's writer: checks every line the hub or the session sends.
private final class CheckingOutbox: ClientOutbox, Sendable {
    let owner: String

    init(owner: String) {
        self.owner = owner
    }

    func enqueue(_ line: ByteBuffer) -> EnqueueResult {
        CommandAgainstHub.checkLine(Array(line.readableBytesView), to: owner)
        return .queued(wake: nil)
    }

    func wake() {}

    func close(reason: CloseReason) {}
}

enum CommandAgainstHub {
    private static let logger: Logger = {
        var logger = Logger(label: "fuzz-command")
        logger.logLevel = .critical
        return logger
    }()

    /// Bans already in place, so `/bans` has two pages and `/unban` something to find.
    private static let seededBans = BanStore.pageSize + 1

    static func checkLine(_ bytes: [UInt8], to owner: String) {
        require(bytes.last == UInt8(ascii: "\n"), "a line to \(owner) without its newline: \(bytes)")
        // One buffer may hold several lines (a `/stats` answer is its notices together): each is checked.
        for body in bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            require(
                !body.contains { $0 < 0x20 || $0 == 0x7F },
                "a control byte in a line to \(owner): \(String(decoding: body, as: UTF8.self).debugDescription)")
        }
    }

    /// Runs `line` as alice's input and then as bob's, on a new hub; returns when both are carried out.
    static func run(_ line: String) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await runAsync(line)
            done.signal()
        }
        done.wait()
    }

    private static func runAsync(_ line: String) async {
        let bans = BanStore(logger: logger)
        for number in 0..<seededBans {
            _ = bans.add(
                Ban(
                    name: "banned\(number)", address: "192.0.2.\(number)", bannedBy: "seed", bannedAt: .now(),
                    reason: nil))
        }
        let hub = Hub(configuration: HubConfiguration(historyLines: 8), bans: bans, logger: logger)
        var alice = Member(name: "alice", id: 1)
        var bob = Member(name: "bob", id: 2)
        await alice.type("alice", on: hub)
        await bob.type("bob", on: hub)
        require(await hub.onlineCount == 2, "the two members did not log in")
        await alice.type(line, on: hub)
        await bob.type(line, on: hub)
        // The hub still answers after whatever the command did.
        await bob.type("/stats", on: hub)
    }

    /// A logged-in connection without a socket: its state machine, its id and its checking outbox.
    private struct Member {
        var machine: SessionStateMachine
        let info: ClientInfo
        let outbox: CheckingOutbox

        init(name: String, id: UInt64) {
            self.machine = SessionStateMachine(
                settings: SessionSettings(
                    maximumLineBytes: 4096, throttle: LineThrottle(ratePerSecond: 0), tlsPort: 9443),
                transport: .plaintext, connectedAt: .now())
            self.info = ClientInfo(
                id: ConnectionID(id), address: "127.0.0.\(id)", transport: .plaintext, connectedAt: .now())
            self.outbox = CheckingOutbox(owner: name)
        }

        /// What `Session.perform` does with the actions of one input line, hub replies included.
        mutating func type(_ line: String, on hub: Hub) async {
            var pending = machine.receive(.line(line), now: .now())
            var next = 0
            while next < pending.count {
                require(next < 64, "one line produced more than 64 actions: \(pending)")
                let action = pending[next]
                next += 1
                switch action {
                case .show(let event):
                    outbox.send(event)
                case .login(let name):
                    let outcome = await hub.login(info, name: name, outbox: outbox)
                    pending.insert(contentsOf: machine.receive(.login(name, outcome)), at: next)
                case .request(let request):
                    var reply = await hub.handle(request, from: info.id)
                    if case .pending(let receipt, let confirmation) = reply {
                        let outcome = await receipt.outcome
                        if outcome == .committed, let confirmation { outbox.send(confirmation) }
                        reply = .commit(outcome)
                    }
                    pending.insert(contentsOf: machine.receive(reply), at: next)
                case .close(let reason):
                    await hub.remove(info.id, reason: reason)
                case .loggedIn, .active, .count:
                    break
                case .lookUpAccount, .checkPassword, .logInToAccount, .account:
                    // Accounts are off in this harness (no account file): the hub's commands are what it covers.
                    break
                case .settleLines, .reserveName, .commitDepartures, .claimName, .completeLogin, .loadRoom, .joinLoaded,
                    .watchCommit, .awaitCommit:
                    // A cluster's steps: a single node's machine, which this harness drives, never asks for them.
                    require(false, "a single node's machine asked for a cluster step: \(action)")
                }
            }
        }
    }
}
