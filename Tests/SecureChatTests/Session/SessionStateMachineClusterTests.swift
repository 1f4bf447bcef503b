import NIOCore
import Testing

@testable import SecureChat

/// What a cluster adds to a session's steps, with no database and no hub: the name claim between the hub's
/// reservation and its admission, the room read before a join, and the commit receipts.
@Suite("Session state machine: cluster")
struct SessionStateMachineClusterTests {
    static let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let alice = try! Username.validate("alice").get()
    static let dev = RoomName(parsing: "#dev")!
    static let paused = "Chat is paused: this server has lost its link to the cluster's database."

    static func machine(accounts: Bool = false) -> SessionStateMachine {
        let settings = SessionSettings(
            maximumLineBytes: 2048,
            throttle: LineThrottle(ratePerSecond: 5, burst: 10, maxRefusals: 3, refusalWindow: .seconds(10)),
            tlsPort: 9443, maximumFailedLogins: 3, accounts: accounts, clustered: true
        )
        return SessionStateMachine(
            settings: settings, transport: .tls(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256"),
            connectedAt: Timestamp(secondsSinceEpoch: 0))
    }

    /// A clustered machine logged in as alice, the whole way.
    static func chatting() -> SessionStateMachine {
        var machine = machine()
        #expect(machine.receive(.line("alice"), now: now) == [.reserveName(alice, account: nil)])
        #expect(
            machine.receive(reservation: nil, for: alice, account: nil) == [
                .claimName(alice, takingOver: false, account: nil)
            ])
        #expect(
            machine.receive(.won(loginOrder: 7), for: alice, account: nil) == [
                .completeLogin(alice, .won(loginOrder: 7), account: nil)
            ])
        #expect(machine.receive(.login(alice, .loggedIn(room: .lobby, isOperator: false))) == [.loggedIn])
        #expect(machine.isLoggedIn)
        return machine
    }

    // MARK: - Logging in

    @Test("a name is reserved by the hub, claimed in the database, then admitted by the hub")
    func login() {
        _ = Self.chatting()
    }

    @Test("a reservation the hub refuses is the answer: nothing is claimed")
    func refusedReservation() {
        var machine = Self.machine()
        _ = machine.receive(.line("alice"), now: Self.now)
        #expect(
            machine.receive(reservation: .nameTaken, for: Self.alice, account: nil) == [
                .error("The name alice is taken (names are compared ignoring case)."), SessionStateMachine.prompt,
            ])
        #expect(
            machine.receive(reservation: .clusterUnavailable, for: Self.alice, account: nil) == [
                .error(Self.paused + " Try logging in again in a moment."), SessionStateMachine.prompt,
            ])
    }

    @Test("a claim the database loses or cannot answer still completes the reservation, and is refused")
    func lostClaim() {
        var machine = Self.machine()
        _ = machine.receive(.line("alice"), now: Self.now)
        _ = machine.receive(reservation: nil, for: Self.alice, account: nil)
        #expect(
            machine.receive(.taken, for: Self.alice, account: nil) == [.completeLogin(Self.alice, .taken, account: nil)]
        )
        #expect(
            machine.receive(.login(Self.alice, .nameTaken)) == [
                .error("The name alice is taken (names are compared ignoring case)."), SessionStateMachine.prompt,
            ])
        #expect(!machine.isLoggedIn)
    }

    @Test("a log-in to an account takes the name over only once the node's departures are committed")
    func accountTakeOver() {
        var machine = Self.machine(accounts: true)
        #expect(machine.receive(.line("alice"), now: Self.now) == [.lookUpAccount(Self.alice)])
        #expect(
            machine.receive(.registered(Self.alice, certificateMatches: true, hasPassword: false), for: Self.alice)
                == [.reserveName(Self.alice, account: .certificate)])
        #expect(
            machine.receive(reservation: nil, for: Self.alice, account: .certificate) == [
                .commitDepartures(Self.alice, .certificate)
            ])
        #expect(
            machine.receive(departuresCommitted: true, for: Self.alice, account: .certificate) == [
                .claimName(Self.alice, takingOver: true, account: .certificate)
            ])
        // Not committed: no claim (it could be undone by the departure), the hub hears the database is away.
        #expect(
            machine.receive(departuresCommitted: false, for: Self.alice, account: .certificate) == [
                .completeLogin(Self.alice, .unavailable, account: .certificate)
            ])
        #expect(
            machine.receive(.login(Self.alice, .clusterUnavailable)) == [
                .error(Self.paused + " Try logging in again in a moment."), SessionStateMachine.prompt,
            ])
    }

    @Test("alone, a log-in is one hub request")
    func alone() {
        var machine = SessionStateMachineTests.machine()
        #expect(machine.receive(.line("alice"), now: Self.now) == [.login(Self.alice)])
    }

    // MARK: - Requests

    @Test(
        "anything but a chat line waits for the session's chat lines to be committed first",
        arguments: [
            ("/msg bob hi", [SessionAction.settleLines, .request(.directMessage(to: "bob", text: "hi"))]),
            ("/whois bob", [.settleLines, .request(.whois("bob"))]),
            ("/ping", [.settleLines, .request(.ping)]),
            ("/leave", [.settleLines, .request(.leave)]),
            ("hello", [.request(.say("hello"))]),
            ("//slash", [.request(.say("/slash"))]),
        ]
    )
    func settlesFirst(line: String, actions: [SessionAction]) {
        var machine = Self.chatting()
        #expect(machine.receive(.line(line), now: Self.now) == [.active] + actions)
    }

    @Test("alone nothing is settled: no line is ever uncommitted")
    func aloneSettlesNothing() throws {
        var machine = try SessionStateMachineTests.chatting()
        #expect(machine.receive(.line("/whois bob"), now: Self.now) == [.active, .request(.whois("bob"))])
        #expect(
            machine.receive(.line("/quit"), now: Self.now) == [.active, .notice("Bye!"), .close(.quit(message: nil))])
    }

    @Test("/join first finds out whether the room must be read from the database")
    func join() {
        var machine = Self.chatting()
        #expect(machine.receive(.line("/join #dev"), now: Self.now) == [.active, .settleLines, .loadRoom(Self.dev)])
        #expect(machine.receive(.held, for: Self.dev) == [.request(.join(Self.dev))])
        let loaded = LoadedRoom(RoomSnapshot(room: Self.dev, lastSequence: 12, history: []))
        #expect(machine.receive(.loaded(loaded), for: Self.dev) == [.joinLoaded(loaded)])
        #expect(machine.receive(.unavailable, for: Self.dev) == [.error(Self.paused + " You stay in your room.")])
    }

    // MARK: - Commit receipts

    @Test("a chat line's commit is watched, not awaited; any other request's is awaited")
    func pending() {
        var machine = Self.chatting()
        let receipt = CommitReceipt()
        let confirmation = ChatEvent.directMessageSent(to: "bob", text: "hi")
        #expect(machine.receive(.pending(receipt, confirmation: nil), to: .say("hello")) == [.watchCommit(receipt)])
        #expect(
            machine.receive(.pending(receipt, confirmation: confirmation), to: .directMessage(to: "bob", text: "hi"))
                == [.awaitCommit(receipt, confirmation: confirmation)])
        // Not pending: the reply as ever.
        #expect(
            machine.receive(.directMessage(to: "carol", .noSuchUser), to: .directMessage(to: "carol", text: "x")) == [
                .error("No user named carol is online.")
            ])
    }

    @Test("an awaited commit sends its confirmation once committed, and says why when it was not")
    func awaitedCommit() {
        var machine = Self.chatting()
        let confirmation = ChatEvent.directMessageSent(to: "bob", text: "hi")
        #expect(
            machine.receive(committed: .committed, confirmation: confirmation) == [.show(confirmation)])
        #expect(machine.receive(committed: .committed, confirmation: nil) == [])
        #expect(
            machine.receive(committed: .notSent, confirmation: confirmation) == [
                .error(Self.paused + " What you sent was not delivered.")
            ])
        #expect(
            machine.receive(committed: .uncertain, confirmation: nil) == [
                .error(
                    "The link to the database broke while your line was being stored; it may not have been sent.")
            ])
    }

    @Test("a closing connection's refused chat lines are still reported before it ends")
    func closeSettles() {
        var quitting = Self.chatting()
        #expect(
            quitting.receive(.line("/quit"), now: Self.now) == [
                .active, .notice("Bye!"), .settleLines, .close(.quit(message: nil)),
            ])
        var flooding = Self.chatting()
        for _ in 1...12 { _ = flooding.receive(.line("x"), now: Self.now) }
        #expect(
            flooding.receive(.line("x"), now: Self.now) == [
                .error("Disconnected for flooding."), .settleLines, .close(.flooding),
            ])
    }
}
