import NIOCore
import Testing

@testable import SecureChat

/// The session's rules with no socket and no hub: lines and hub replies in, actions out.
@Suite("Session state machine")
struct SessionStateMachineTests {
    static let settings = SessionSettings(
        maximumLineBytes: 2048,
        throttle: LineThrottle(ratePerSecond: 5, burst: 10, maxRefusals: 3, refusalWindow: .seconds(10)),
        tlsPort: 9443,
        maximumFailedLogins: 3
    )
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func machine(transport: Transport = .plaintext) -> SessionStateMachine {
        SessionStateMachine(settings: settings, transport: transport, connectedAt: Timestamp(secondsSinceEpoch: 0))
    }

    /// A machine logged in as `alice`.
    static func chatting() throws -> SessionStateMachine {
        var machine = machine()
        let alice = try Username.validate("alice").get()
        #expect(machine.receive(.line("alice"), now: start) == [.login(alice)])
        #expect(machine.receive(.login(alice, .loggedIn(room: .lobby, isOperator: false))) == [.loggedIn])
        return machine
    }

    static let prompt = SessionAction.notice("Choose a username (1-24 characters: letters, digits, _ and -):")

    /// The lines a line-protocol client reads for `actions` (without their `\n`): what the machine's typed
    /// events must still look like on `nc`, byte for byte.
    static func rendered(_ actions: [SessionAction]) -> [String] {
        actions.compactMap { action in
            guard case .show(let event) = action else { return nil }
            let line = LineRenderer.render(event)
            #expect(line.readableBytesView.last == UInt8(ascii: "\n"))
            return String(decoding: line.readableBytesView.dropLast(), as: UTF8.self)
        }
    }

    // MARK: - Greeting and login

    @Test("the greeting says whether the link is encrypted, who is here, and prompts")
    func greeting() {
        #expect(
            Self.machine().greeting(usersOnline: 1) == [
                .notice("Welcome to SecureChat."),
                .notice(
                    "Your connection is NOT encrypted: anyone on the network path can read it. Use TLS on port 9443 for privacy."
                ),
                .notice("1 user online."),
                Self.prompt,
            ]
        )
        let tls = Self.machine(transport: .tls(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256"))
        #expect(
            tls.greeting(usersOnline: 2)[1] == .notice("Your connection is encrypted: TLSv1.3, TLS_AES_128_GCM_SHA256.")
        )
        #expect(tls.greeting(usersOnline: 2)[2] == .notice("2 users online."))
    }

    @Test(
        "a malformed name is refused with its reason and the prompt, without asking the hub",
        arguments: [
            ("al ice", "a username may only use letters A-Z a-z, digits, _ and -"),
            (String(repeating: "a", count: 25), "a username has at most 24 characters"),
            ("admin", "that name is reserved"),
        ]
    )
    func malformedName(name: String, problem: String) {
        var machine = Self.machine()
        #expect(
            machine.receive(.line(name), now: Self.start) == [.error("Cannot use that name: \(problem)."), Self.prompt])
        guard case .awaitingName(let failures) = machine.state else {
            Issue.record("left the login state")
            return
        }
        #expect(failures == 1)
    }

    @Test("a taken name is refused with the prompt again and counts as a failure")
    func nameTaken() throws {
        var machine = Self.machine()
        let bob = try Username.validate("Bob").get()
        #expect(machine.receive(.line("Bob"), now: Self.start) == [.login(bob)])
        #expect(
            machine.receive(.login(bob, .nameTaken))
                == [.error("The name Bob is taken (names are compared ignoring case)."), Self.prompt]
        )
        guard case .awaitingName(let failures) = machine.state else {
            Issue.record("left the login state")
            return
        }
        #expect(failures == 1)
    }

    @Test("a banned name may choose another and stays; a banned address is closed; neither hears who or why")
    func banned() throws {
        var machine = Self.machine()
        let bob = try Username.validate("bob").get()
        _ = machine.receive(.line("bob"), now: Self.start)
        #expect(
            machine.receive(.login(bob, .nameBanned))
                == [.error("The name bob is not available; choose another."), Self.prompt]
        )
        guard case .awaitingName(let failures) = machine.state else {
            Issue.record("a banned name closed the connection")
            return
        }
        #expect(failures == 1)
        let eve = try Username.validate("eve").get()
        _ = machine.receive(.line("eve"), now: Self.start)
        #expect(
            machine.receive(.login(eve, .addressBanned))
                == [.error("Your address is banned from this server."), .close(.banned)]
        )
        #expect(machine.receive(.line("bob"), now: Self.start) == [])
    }

    @Test("after the allowed refusals the next name closes the connection")
    func tooManyLoginAttempts() {
        var machine = Self.machine()
        for _ in 0..<3 { _ = machine.receive(.line("bad name"), now: Self.start) }
        #expect(
            machine.receive(.line("alice"), now: Self.start)
                == [.error("Too many refused names; goodbye."), .close(.tooManyLoginAttempts)]
        )
    }

    @Test("empty lines, overlong lines and TLS on the plaintext port")
    func otherInputs() {
        var machine = Self.machine()
        #expect(machine.receive(.line(""), now: Self.start) == [])
        #expect(
            machine.receive(.overlong, now: Self.start) == [
                .error("Line too long (over 2048 bytes); it was discarded.")
            ]
        )
        #expect(
            machine.receive(.tlsOnPlaintextPort, now: Self.start) == [
                .error(
                    "This is SecureChat's plaintext port and your client spoke TLS. For TLS, connect to port 9443."
                ),
                .close(.tlsOnPlaintextPort),
            ]
        )
    }

    // MARK: - Commands

    @Test(
        "every command that touches shared state becomes its hub request",
        arguments: [
            ("hello all", HubRequest.say("hello all")),
            ("//not a command", .say("/not a command")),
            ("/msg bob hi there", .directMessage(to: "bob", text: "hi there")),
            ("/users", .users(all: false)),
            ("/users all", .users(all: true)),
            ("/rooms", .rooms),
            ("/whois bob", .whois("bob")),
            ("/stats", .stats),
            ("/ping", .ping),
            ("/join #dev", .join(RoomName(parsing: "#dev")!)),
            ("/join dev", .join(RoomName(parsing: "#dev")!)),
            ("/leave", .leave),
            ("/kick bob spam", .kick("bob", reason: "spam")),
            ("/kick bob", .kick("bob", reason: nil)),
            ("/ban bob flooding", .ban("bob", reason: "flooding")),
            ("/unban bob", .unban("bob")),
            ("/bans", .bans(page: 1)),
            ("/bans 2", .bans(page: 2)),
        ]
    )
    func commandRequests(line: String, request: HubRequest) throws {
        var machine = try Self.chatting()
        #expect(machine.receive(.line(line), now: Self.start) == [.active, .request(request)])
    }

    @Test("commands answered without the hub: help, bad usage, unknown, bad room names")
    func localCommands() throws {
        var machine = try Self.chatting()
        let help = machine.receive(.line("/help"), now: Self.start)
        #expect(help.first == .active)
        #expect(help.count == SessionStateMachine.helpLines.count + 1)
        #expect(
            machine.receive(.line("/nope"), now: Self.start)
                == [.active, .error("Unknown command /nope; type /help for the list.")]
        )
        #expect(machine.receive(.line("/msg bob"), now: Self.start) == [.active, .error("Usage: /msg <user> <text>.")])
        #expect(
            machine.receive(.line("/join #Bad!"), now: Self.start)
                == [.active, .error("Room names are # and 1-32 of a-z, 0-9, _ and -.")]
        )
    }

    @Test("/quit says goodbye and closes with the user's reason")
    func quit() throws {
        var machine = try Self.chatting()
        #expect(
            machine.receive(.line("/quit see you"), now: Self.start)
                == [.active, .notice("Bye!"), .close(.quit(message: "see you"))]
        )
        #expect(machine.receive(.line("anything"), now: Self.start) == [])
        var silent = try Self.chatting()
        #expect(silent.receive(.line("/quit"), now: Self.start).last == .close(.quit(message: nil)))
    }

    // MARK: - Rate limit and flood

    @Test("a refusal under an absurd rate names the rate instead of trapping on Int(1e300)")
    func refusalUnderAHugeRate() throws {
        let settings = SessionSettings(
            maximumLineBytes: 2048, throttle: LineThrottle(ratePerSecond: 1e300, burst: 1), tlsPort: nil)
        var machine = SessionStateMachine(
            settings: settings, transport: .plaintext, connectedAt: Timestamp(secondsSinceEpoch: 0))
        let alice = try Username.validate("alice").get()
        _ = machine.receive(.line("alice"), now: Self.start)
        _ = machine.receive(.login(alice, .loggedIn(room: .lobby, isOperator: false)))
        // Two lines at the same instant: the burst of one is spent, no time passed to refill it.
        _ = machine.receive(.line("one"), now: Self.start)
        let refused = machine.receive(.line("two"), now: Self.start)
        #expect(
            refused.last
                == .error("You are sending too fast (limit 1e+300 lines/s); that line was dropped. Slow down."))
    }

    @Test("over the burst a line is refused and counted; sustained flooding closes the connection")
    func flood() throws {
        var machine = try Self.chatting()
        for number in 1...10 {
            #expect(machine.receive(.line("line \(number)"), now: Self.start).first == .active)
        }
        let refused = SessionAction.error(
            "You are sending too fast (limit 5 lines/s); that line was dropped. Slow down."
        )
        #expect(machine.receive(.line("over"), now: Self.start) == [.count(.rateLimitedLine), refused])
        #expect(machine.receive(.line("over"), now: Self.start) == [.count(.rateLimitedLine), refused])
        #expect(
            machine.receive(.line("over"), now: Self.start) == [
                .error("Disconnected for flooding."), .close(.flooding),
            ]
        )
        // A second later the bucket has refilled, but the connection is closing: nothing more happens.
        #expect(machine.receive(.line("late"), now: Self.start + .seconds(1)) == [])
    }

    @Test("a logged-in user's non-empty lines are charged to the address budget by their bytes; a refusal drops one")
    func addressBudget() throws {
        var asked: [Int] = []
        var admits = true
        let budget: (Int) -> Bool = { bytes in
            asked.append(bytes)
            return admits
        }
        var machine = Self.machine()
        // Not before login: names are bounded by count and the login timeout.
        #expect(machine.receive(.line("alice"), now: Self.start, admit: budget).count == 1)
        let alice = try Username.validate("alice").get()
        _ = machine.receive(.login(alice, .loggedIn(room: .lobby, isOperator: false)))
        #expect(machine.receive(.line(""), now: Self.start, admit: budget) == [])
        #expect(asked == [])
        #expect(machine.receive(.line("héllo"), now: Self.start, admit: budget) == [.active, .request(.say("héllo"))])
        #expect(asked == [6])
        admits = false
        #expect(
            machine.receive(.line("again"), now: Self.start, admit: budget) == [
                .count(.rateLimitedLine),
                .error("Your address is sending too fast (all its connections together); that line was dropped."),
            ])
        // Refused by the budget counts towards the flood guard (3 refusals in its window close the connection).
        _ = machine.receive(.line("again"), now: Self.start, admit: budget)
        #expect(
            machine.receive(.line("again"), now: Self.start, admit: budget) == [
                .error("Disconnected for flooding."), .close(.flooding),
            ])
    }

    @Test("the bucket refills with time")
    func refill() throws {
        var machine = try Self.chatting()
        for _ in 1...10 { _ = machine.receive(.line("x"), now: Self.start) }
        #expect(machine.receive(.line("x"), now: Self.start).first == .count(.rateLimitedLine))
        #expect(machine.receive(.line("x"), now: Self.start + .milliseconds(200)).first == .active)
    }

    // MARK: - Replies

    @Test(
        "hub replies become the user's lines",
        arguments: [
            (HubReply.done, [SessionAction]()),
            (.directMessage(to: "carol", .noSuchUser), [.error("No user named carol is online.")]),
            (.directMessage(to: "alice", .toSelf), [.error("You cannot send a direct message to yourself.")]),
            (.directMessage(to: "bob", .sent), []),
            (.join(RoomName(parsing: "#dev")!, .alreadyThere), [.error("You are already in #dev.")]),
            (
                .join(RoomName(parsing: "#new")!, .tooManyRooms),
                [.error("The server has too many rooms; join an existing one (/rooms).")]
            ),
            (.leave(.alreadyInLobby), [.error("You are in #lobby already; /quit leaves the server.")]),
            (.moderation(target: "bob", .notOperator, lifted: false), [.error("That command is for operators only.")]),
            (.moderation(target: "bob", .noSuchUser, lifted: false), [.error("No user named bob is online.")]),
            (.moderation(target: "me", .cannotTargetSelf, lifted: false), [.error("You cannot do that to yourself.")]),
            (.moderation(target: "x", .notBanned, lifted: true), [.error("Nothing is banned under x.")]),
            (.moderation(target: "bob", .done, lifted: true), [.notice("Lifted the ban on bob.")]),
            (.moderation(target: "bob", .done, lifted: false), []),
            (.bans(nil), [.error("That command is for operators only.")]),
            (.bans(BanPage(bans: [], number: 1, pages: 1, total: 0)), [.notice("0 bans.")]),
            (
                .bans(BanPage(bans: [], number: 9, pages: 3, total: 120)),
                [.error("There are 3 pages of bans; /bans 1 to /bans 3.")]
            ),
            (
                .moderation(target: "x", .banListFull, lifted: false),
                [.error("The ban list is full (10000 bans); lift some with /unban first.")]
            ),
            (
                .moderation(target: "10.0.0.0/8", .ownNetwork("10.0.0.0/8"), lifted: false),
                [.error("You are connected from inside 10.0.0.0/8; you cannot ban your own address.")]
            ),
            (
                .moderation(target: "bob", .targetIsOperator, lifted: false),
                [.error("bob is an operator; operators cannot kick or ban each other.")]
            ),
            (.whois("dave", nil), [.error("No user named dave is online.")]),
        ]
    )
    func replies(reply: HubReply, lines: [SessionAction]) throws {
        var machine = try Self.chatting()
        #expect(machine.receive(reply) == lines)
    }

    @Test("/users and /rooms answers are typed events, shown on the line protocol as the notices they were")
    func lists() throws {
        var machine = try Self.chatting()
        let rooms = RoomList(entries: [RoomListing(name: .lobby, members: 2)], total: 1)
        let roomsAnswer = machine.receive(.rooms(rooms))
        #expect(roomsAnswer == [.show(.rooms(rooms))])
        #expect(Self.rendered(roomsAnswer) == ["* 1 room: #lobby (2)"])
        let entries = (1...2).map {
            UserListing(name: "u\($0)", room: .lobby, isOperator: $0 == 1, transport: .plaintext)
        }
        // Over the list limit, it says how many more.
        let inRoom = UserList(room: .lobby, entries: entries, total: 5)
        let inRoomAnswer = machine.receive(.users(inRoom))
        #expect(inRoomAnswer == [.show(.users(inRoom))])
        #expect(
            Self.rendered(inRoomAnswer) == ["* 5 users in #lobby: u1 [op] [plaintext], u2 [plaintext], ... and 3 more"])
        let everyone = UserList(room: nil, entries: entries, total: 2)
        let everyoneAnswer = machine.receive(.users(everyone))
        #expect(everyoneAnswer == [.show(.users(everyone))])
        #expect(
            Self.rendered(everyoneAnswer) == ["* 2 users online: u1 #lobby [op] [plaintext], u2 #lobby [plaintext]"])
    }

    @Test("/whois is a typed event, shown on the line protocol as the notice it was; registration only with accounts")
    func whois() throws {
        let bob = WhoisListing(
            name: "bob", room: .lobby, isOperator: true, transport: .plaintext,
            connectedAt: Timestamp(secondsSinceEpoch: 1_796_655_601), certificateFingerprint: "AB:CD", account: nil)
        var machine = try Self.chatting()
        let answer = machine.receive(.whois("bob", bob))
        #expect(answer == [.show(.whois(bob, showsAccount: false))])
        #expect(
            Self.rendered(answer) == [
                "* bob (operator): in #lobby, connected since 2026-12-07 15:00:01 UTC, over plaintext, client certificate SHA-256 AB:CD."
            ])
        var settings = Self.settings
        settings.accounts = true
        var withAccounts = SessionStateMachine(
            settings: settings, transport: .plaintext, connectedAt: Timestamp(secondsSinceEpoch: 0))
        withAccounts.state = .chatting(name: try Username.validate("alice").get(), throttle: settings.throttle)
        var registered = bob
        registered.account = .certificate
        let registeredAnswer = withAccounts.receive(.whois("bob", registered))
        #expect(registeredAnswer == [.show(.whois(registered, showsAccount: true))])
        #expect(
            Self.rendered(registeredAnswer).first?.hasSuffix("; registered, logged in with a client certificate.")
                == true)
        #expect(Self.rendered(withAccounts.receive(.whois("bob", bob))).first?.hasSuffix("; not registered.") == true)
        // JSON: the fields, and the line's text for a client that shows only text.
        let json = String(buffer: JSONRenderer.render(.whois(registered, showsAccount: true)))
        #expect(json.hasPrefix(##"{"type":"whois","name":"bob","room":"#lobby","operator":true,"encrypted":false,"##))
        #expect(
            json.contains(#""connected_since":"2026-12-07T15:00:01Z","certificate":"AB:CD","account":"certificate""#))
        #expect(json.contains(##""text":"bob (operator): in #lobby"##))
    }

    @Test("/stats is a typed event with the asker's own connection; the line protocol shows its two or three notices")
    func stats() throws {
        let transport = Transport.tls(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256")
        var machine = SessionStateMachine(
            settings: Self.settings, transport: transport, connectedAt: Timestamp(secondsSinceEpoch: 1000))
        machine.state = .chatting(name: try Username.validate("alice").get(), throttle: Self.settings.throttle)
        let server = HubStatistics(
            usersOnline: 1, rooms: 2, startedAt: Timestamp(secondsSinceEpoch: 0), messages: 1, deliveries: 9,
            logins: 3, overflowEvictions: 0)
        let alone = StatisticsReport(messagesSent: 1, server: server, now: Timestamp(secondsSinceEpoch: 4600))
        let answer = machine.receive(.stats(alone))
        #expect(
            answer == [.show(.stats(alone, connectedAt: Timestamp(secondsSinceEpoch: 1000), transport: transport))])
        #expect(
            Self.rendered(answer) == [
                "* You: 1 message sent, connected since 1970-01-01 00:16:40 UTC (1h 0m), over TLS (TLSv1.3, TLS_AES_128_GCM_SHA256).\n"
                    + "* Server: 1 user online in 2 rooms, 1 message relayed, up 1h 16m."
            ])
        var clustered = alone
        clustered.node = NodeReport(name: "n1", nodesUp: 2)
        let clusterAnswer = Self.rendered(machine.receive(.stats(clustered)))
        #expect(clusterAnswer.first?.hasSuffix("\n* Cluster: you are on node n1; 2 nodes up.") == true)
        let json = String(
            buffer: JSONRenderer.render(
                .stats(clustered, connectedAt: .init(secondsSinceEpoch: 1000), transport: transport)))
        #expect(json.hasPrefix(#"{"type":"stats","sent":1,"connected_since":"1970-01-01T00:16:40Z","#))
        #expect(
            json.contains(
                #""users_online":1,"rooms":2,"messages":1,"up_since":"1970-01-01T00:00:00Z","node":"n1","nodes_up":2,"#)
        )
        #expect(
            String(
                buffer: JSONRenderer.render(
                    .stats(alone, connectedAt: .init(secondsSinceEpoch: 1000), transport: transport))
            ).contains(#""node":null,"nodes_up":null"#))
    }

    // MARK: - Close reasons

    @Test(
        "each close reason's leave notice and counter",
        arguments: [
            (CloseReason.quit(message: "bye"), "bob left #lobby (quit: \"bye\")", nil),
            (.quit(message: nil), "bob left #lobby (quit)", nil),
            (.quit(message: #"say "hi") * fake"#), #"bob left #lobby (quit: "say \"hi\") * fake")"#, nil),
            (.connectionClosed, "bob left #lobby (connection closed)", nil),
            (.sendQueueOverflow, "bob left #lobby (send queue overflow)", ServerCounters.Event.outboxOverflow),
            (.writeTimeout, "bob left #lobby (write timeout (client stopped reading))", .writeTimeout),
            (.idleTimeout, "bob left #lobby (idle timeout)", .idleTimeout),
            (.loginTimeout, "bob left #lobby (login timeout)", .loginTimeout),
            (.flooding, "bob left #lobby (flooding)", .floodDisconnect),
            (.tooManyLoginAttempts, "bob left #lobby (too many login attempts)", nil),
            (.banned, "bob left #lobby (banned)", nil),
            (
                .removedByOperator(.init(.kicked, by: "alice", reason: "spam")), "bob was kicked by alice (\"spam\")",
                nil
            ),
            (.removedByOperator(.init(.banned, by: "alice", reason: nil)), "bob was banned by alice", nil),
            (.tlsOnPlaintextPort, "bob left #lobby (TLS on plaintext port)", .tlsOnPlaintextPort),
            (.handshakeFailed, "bob left #lobby (TLS handshake failed)", nil),
            (.refused, "bob left #lobby (refused by the connection limits)", nil),
            (.serverShutdown, "bob left #lobby (server shutting down)", nil),
        ]
    )
    func closeReasons(reason: CloseReason, notice: String, counter: ServerCounters.Event?) {
        #expect(reason.leaveNotice(name: "bob", room: .lobby) == notice)
        #expect(reason.counter == counter)
        #expect(reason.isAlwaysAnnounced == (reason.farewell != nil))
    }

    @Test("a connection that ended is closing with its reason and ignores everything after")
    func connectionEnded() throws {
        var machine = try Self.chatting()
        machine.connectionEnded(.writeTimeout)
        guard case .closing(let reason) = machine.state else {
            Issue.record("not closing")
            return
        }
        #expect(reason == .writeTimeout)
        #expect(machine.receive(.line("hello"), now: Self.start) == [])
        #expect(machine.receive(.done) == [])
    }
}
