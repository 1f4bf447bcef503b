import NIOCore
import Testing

@testable import SecureChat

/// The password state with no socket, hub or hash: lines and answers in, actions out.
@Suite("Session state machine: accounts")
struct SessionStateMachineAccountTests {
    static let settings = SessionSettings(
        maximumLineBytes: 2048,
        throttle: LineThrottle(ratePerSecond: 5, burst: 10, maxRefusals: 3, refusalWindow: .seconds(10)),
        tlsPort: 9443, maximumFailedLogins: 10, accounts: true
    )
    static let tls = Transport.tls(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256")
    static let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let alice = try! Username.validate("alice").get()
    static let prompt = SessionStateMachine.prompt

    static func machine(_ transport: Transport = tls) -> SessionStateMachine {
        SessionStateMachine(settings: settings, transport: transport, connectedAt: Timestamp(secondsSinceEpoch: 0))
    }

    /// A TLS machine at alice's password prompt.
    static func atPasswordPrompt() -> SessionStateMachine {
        var machine = machine()
        #expect(machine.receive(.line("alice"), now: now) == [.lookUpAccount(alice)])
        let prompt = machine.receive(.registered(alice, certificateMatches: false, hasPassword: true), for: alice)
        let text = "alice is registered. Type its password (it shows on your screen), or another name:"
        // Typed, so a page can show a password field; on the line protocol, the notice it always was.
        #expect(prompt == [.show(.passwordRequired(name: "alice", text: text))])
        #expect(SessionStateMachineTests.rendered(prompt) == ["* " + text])
        return machine
    }

    @Test("with accounts on a name is looked up first; an unregistered one logs in as before")
    func unregistered() {
        var machine = Self.machine()
        let bob = try! Username.validate("bob").get()
        #expect(machine.receive(.line("bob"), now: Self.now) == [.lookUpAccount(bob)])
        #expect(machine.receive(.unregistered, for: bob) == [.login(bob)])
    }

    @Test("the password goes into the check action only, and a correct one logs in to the account")
    func correctPassword() {
        var machine = Self.atPasswordPrompt()
        #expect(
            machine.receive(.line("correct horse"), now: Self.now) == [
                .checkPassword(Self.alice, password: "correct horse")
            ])
        #expect(machine.receive(.correct, for: Self.alice) == [.logInToAccount(Self.alice, .password)])
        #expect(machine.receive(.login(Self.alice, .loggedIn(room: .lobby, isOperator: false))) == [.loggedIn])
        #expect(machine.isLoggedIn)
    }

    @Test("plaintext never asks for the password")
    func plaintext() {
        var machine = Self.machine(.plaintext)
        _ = machine.receive(.line("alice"), now: Self.now)
        #expect(
            machine.receive(.registered(Self.alice, certificateMatches: false, hasPassword: true), for: Self.alice) == [
                .error("alice is registered; log in over TLS (port 9443) or choose another name."), Self.prompt,
            ])
        #expect(machine.receive(.line("a long line of text"), now: Self.now).first?.isPasswordCheck == false)
    }

    @Test("a bound certificate logs in without a prompt")
    func certificate() {
        var machine = Self.machine()
        _ = machine.receive(.line("alice"), now: Self.now)
        #expect(
            machine.receive(.registered(Self.alice, certificateMatches: true, hasPassword: true), for: Self.alice) == [
                .logInToAccount(Self.alice, .certificate)
            ])
    }

    @Test("three wrong passwords close the connection; throttled and busy answers go back to the name prompt")
    func wrongThrottledBusy() {
        var machine = Self.atPasswordPrompt()
        _ = machine.receive(.line("wrong password 1"), now: Self.now)
        #expect(machine.receive(.throttled, for: Self.alice).last == Self.prompt)
        machine = Self.atPasswordPrompt()
        _ = machine.receive(.line("wrong password 1"), now: Self.now)
        #expect(
            machine.receive(.busy, for: Self.alice) == [.error("The server is busy; try again shortly."), Self.prompt])
        for attempt in 1...3 {
            _ = machine.receive(.line("alice"), now: Self.now)
            _ = machine.receive(.registered(Self.alice, certificateMatches: false, hasPassword: true), for: Self.alice)
            _ = machine.receive(.line("wrong password \(attempt)"), now: Self.now)
            let actions = machine.receive(.wrong, for: Self.alice)
            if attempt < 3 {
                #expect(actions == [.error("Wrong password for alice."), Self.prompt])
            } else {
                #expect(
                    actions == [
                        .error("Wrong password for alice."), .error("Too many wrong passwords; goodbye."),
                        .close(.tooManyLoginAttempts),
                    ])
            }
        }
    }

    @Test("busy answers are not refused names: a client may retry past the refused-name limit")
    func busyIsNotARefusal() {
        var machine = Self.machine()
        for _ in 1...(Self.settings.maximumFailedLogins + 2) {
            _ = machine.receive(.line("alice"), now: Self.now)
            _ = machine.receive(.registered(Self.alice, certificateMatches: false, hasPassword: true), for: Self.alice)
            _ = machine.receive(.line("the right password"), now: Self.now)
            #expect(
                machine.receive(.busy, for: Self.alice) == [
                    .error("The server is busy; try again shortly."), Self.prompt,
                ])
        }
        _ = machine.receive(.line("alice"), now: Self.now)
        _ = machine.receive(.registered(Self.alice, certificateMatches: false, hasPassword: true), for: Self.alice)
        _ = machine.receive(.line("the right password"), now: Self.now)
        #expect(machine.receive(.correct, for: Self.alice) == [.logInToAccount(Self.alice, .password)])
    }

    @Test("a held name is refused like a banned one")
    func held() {
        var machine = Self.machine()
        _ = machine.receive(.line("alice"), now: Self.now)
        #expect(
            machine.receive(.held, for: Self.alice) == [
                .error("The name alice is not available; choose another."), Self.prompt,
            ])
    }

    // MARK: - Typed requests' roles (the WebSocket codec's `login` and `password`)

    static let noPasswordAsked = SessionAction.error("No password was asked for: send a \"login\" first.")

    @Test("a password is taken only at the password prompt: before it, it is refused and never becomes a name")
    func passwordOnlyAtThePrompt() {
        var machine = Self.machine()
        #expect(machine.receive(.line("alice", role: .password), now: Self.now) == [Self.noPasswordAsked])
        guard case .awaitingName(failures: 0) = machine.state else {
            Issue.record("a refused password changed the login state: \(machine.state)")
            return
        }
        machine = Self.atPasswordPrompt()
        #expect(
            machine.receive(.line("correct horse", role: .password), now: Self.now) == [
                .checkPassword(Self.alice, password: "correct horse")
            ])
    }

    @Test("a login at the password prompt is a name however long, and gives the prompt up")
    func loginAtThePasswordPrompt() throws {
        var machine = Self.atPasswordPrompt()
        let long = try Username.validate("a_long_enough_name").get()
        // Typed, the same line would be the password: it is long enough to be one.
        #expect(machine.receive(.line("a_long_enough_name", role: .login), now: Self.now) == [.lookUpAccount(long)])
        guard case .awaitingName(failures: 0) = machine.state else {
            Issue.record("still at the password prompt: \(machine.state)")
            return
        }
        var typed = Self.atPasswordPrompt()
        #expect(
            typed.receive(.line("a_long_enough_name"), now: Self.now) == [
                .checkPassword(Self.alice, password: "a_long_enough_name")
            ])
    }

    @Test("after login, a login or a password request is refused without charging the budget or the rate limit")
    func rolesAfterLogin() {
        var machine = Self.machine()
        _ = machine.receive(.line("bob", role: .login), now: Self.now)
        let bob = try! Username.validate("bob").get()
        #expect(machine.receive(.unregistered, for: bob) == [.login(bob)])
        #expect(machine.receive(.login(bob, .loggedIn(room: .lobby, isOperator: false))) == [.loggedIn])
        var charged = 0
        let admit: (Int) -> Bool = { _ in
            charged += 1
            return true
        }
        #expect(
            machine.receive(.line("carol", role: .login), now: Self.now, admit: admit) == [
                .error("You are logged in already.")
            ])
        #expect(
            machine.receive(.line("a password", role: .password), now: Self.now, admit: admit) == [Self.noPasswordAsked]
        )
        #expect(charged == 0)
        #expect(machine.isLoggedIn)
    }
}

extension SessionAction {
    fileprivate var isPasswordCheck: Bool {
        if case .checkPassword = self { return true }
        return false
    }
}
