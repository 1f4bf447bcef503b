import NIOCore

/// One connection's life as rules: login, the rate limit, commands. It holds no connection, hub or clock:
/// it takes input lines, hub replies and the time, and returns the ``SessionAction``s its ``Session`` carries
/// out. That is what lets every login, command and close rule be tested without a socket or a hub.
public struct SessionStateMachine: Sendable {
    public enum State: Sendable {
        /// Before login, with the number of names refused so far (login lines are bounded by count and the
        /// login timeout, not by rate).
        case awaitingName(failures: Int)
        /// A registered name was typed on the TLS port: the next line is its password, or (if it cannot be a
        /// password) another name.
        case awaitingPassword(account: Username, failures: Int)
        /// Logged in.
        case chatting(name: Username, throttle: LineThrottle)
        /// The connection is ending; every later input is ignored.
        case closing(CloseReason)
    }

    public internal(set) var state: State = .awaitingName(failures: 0)
    /// Wrong passwords on this connection, whichever names they were for.
    var wrongPasswords = 0
    /// How this user proved their name is theirs (at log-in, or by registering it since); nil while it is not.
    var accountMethod: LoginMethod?
    let settings: SessionSettings
    /// How this connection reached the server and when, for `/stats`.
    let transport: Transport
    let connectedAt: Timestamp

    public init(settings: SessionSettings, transport: Transport, connectedAt: Timestamp) {
        self.settings = settings
        self.transport = transport
        self.connectedAt = connectedAt
    }

    /// The greeting: what this is, whether the link is encrypted, who is here, and the prompt.
    public func greeting(usersOnline: Int) -> [SessionAction] {
        var actions: [SessionAction] = [.notice("Welcome to SecureChat.")]
        switch transport {
        case .tls(let version, let cipher):
            actions.append(.notice("Your connection is encrypted: \(version), \(cipher)."))
        case .plaintext:
            var line = "Your connection is NOT encrypted: anyone on the network path can read it."
            if let port = settings.tlsPort { line += " Use TLS on port \(port) for privacy." }
            actions.append(.notice(line))
        }
        actions.append(.notice("\(usersOnline) user\(usersOnline == 1 ? "" : "s") online."))
        actions.append(Self.prompt)
        return actions
    }

    static let prompt = SessionAction.notice("Choose a username (1-24 characters: letters, digits, _ and -):")

    /// One input from the connection, at monotonic time `now` (for the rate limit). `admit` charges a logged-in
    /// user's line, by its size in bytes, to their address's shared budget (see `AddressLineBudget`) and says
    /// whether the budget took it; it is asked only for lines that would otherwise be handled, and the default
    /// (a budget without limit) is for callers that have none.
    public mutating func receive(
        _ input: SessionInput, now: NIODeadline, admit: (_ bytes: Int) -> Bool = { _ in true }
    ) -> [SessionAction] {
        if case .closing = state { return [] }
        switch input {
        case .tlsOnPlaintextPort:
            var message = "This is SecureChat's plaintext port and your client spoke TLS."
            if let port = settings.tlsPort { message += " For TLS, connect to port \(port)." }
            return [.error(message)] + close(.tlsOnPlaintextPort)
        case .overlong:
            return [.error("Line too long (over \(settings.maximumLineBytes) bytes); it was discarded.")]
        case .line(let text, let role):
            if let role, let refusal = apply(role) { return [.error(refusal)] }
            if text.isEmpty { return [] }
            switch state {
            case .awaitingName(let failures):
                return chooseName(text, failures: failures)
            case .awaitingPassword(let account, let failures):
                return passwordLine(text, for: account, failures: failures)
            case .chatting:
                // Charged in bytes after sanitising: what the address's lines cost their recipients.
                guard admit(text.utf8.count) else { return refuseOverAddressBudget(now: now) }
                return chat(text, now: now)
            case .closing:
                return []
            }
        }
    }

    /// A typed request's role against the state: a password only when one is asked for, a name only before
    /// login; a name at the password prompt gives that prompt up. The refusal, or nil to take the line.
    private mutating func apply(_ role: SessionInput.Role) -> String? {
        switch (role, state) {
        case (.password, .awaitingPassword), (.login, .awaitingName):
            return nil
        case (.password, _):
            return "No password was asked for: send a \"login\" first."
        case (.login, .awaitingPassword(_, let failures)):
            state = .awaitingName(failures: failures)
            return nil
        case (.login, _):
            return "You are logged in already."
        }
    }

    /// A logged-in user's line that the address budget took: the user's own rate limit, then the line.
    private mutating func chat(_ text: String, now: NIODeadline) -> [SessionAction] {
        guard case .chatting(let name, var throttle) = state else { return [] }
        let decision = throttle.check(now: now)
        state = .chatting(name: name, throttle: throttle)
        switch decision {
        case .accept:
            return [.active] + handle(text)
        case .refuse:
            return [.count(.rateLimitedLine), .error(tooFast)]
        case .disconnect:
            return [.error("Disconnected for flooding.")] + close(.flooding)
        }
    }

    /// A logged-in user's line that their address's shared budget refused (see `AddressLineBudget`): dropped
    /// with an error, and counted like a line over the user's own rate limit.
    private mutating func refuseOverAddressBudget(now: NIODeadline) -> [SessionAction] {
        guard case .chatting(let name, var throttle) = state else { return [] }
        let decision = throttle.refuse(now: now)
        state = .chatting(name: name, throttle: throttle)
        if decision == .disconnect { return [.error("Disconnected for flooding.")] + close(.flooding) }
        return [
            .count(.rateLimitedLine),
            .error("Your address is sending too fast (all its connections together); that line was dropped."),
        ]
    }

    /// The connection ended (the peer left, or the server closed it for `reason`).
    public mutating func connectionEnded(_ reason: CloseReason) {
        if case .closing = state { return }
        state = .closing(reason)
    }

    var isLoggedIn: Bool {
        if case .chatting = state { return true }
        return false
    }

    mutating func close(_ reason: CloseReason) -> [SessionAction] {
        state = .closing(reason)
        // In a cluster, a chat line refused at commit is still reported before the connection ends.
        return settings.clustered ? [.settleLines, .close(reason)] : [.close(reason)]
    }

    private var tooFast: String {
        // The session's own throttle once chatting: a reload may have changed the rate since it connected.
        var rate = settings.throttle.rateLimiter.ratePerSecond
        if case .chatting(_, let throttle) = state { rate = throttle.rateLimiter.ratePerSecond }
        // `Int(exactly:)`: the rate is an operator's Double, and `Int(1e300)` would trap.
        let shown = Int(exactly: rate).map(String.init) ?? String(rate)
        return "You are sending too fast (limit \(shown) lines/s); that line was dropped. Slow down."
    }

    // MARK: - Login

    mutating func chooseName(_ text: String, failures: Int) -> [SessionAction] {
        if failures >= settings.maximumFailedLogins {
            return [.error("Too many refused names; goodbye.")] + close(.tooManyLoginAttempts)
        }
        switch Username.validate(text) {
        case .failure(let problem):
            state = .awaitingName(failures: failures + 1)
            return [.error("Cannot use that name: \(problem)."), Self.prompt]
        case .success(let name):
            // With accounts on, the name is looked up first: a registered one (or a look-alike) needs its owner.
            return [settings.accounts ? .lookUpAccount(name) : logIn(name, account: nil)]
        }
    }

    mutating func loginReplied(_ name: Username, _ outcome: LoginOutcome) -> [SessionAction] {
        let failures: Int
        switch state {
        case .awaitingName(let count), .awaitingPassword(_, let count): failures = count
        default: return []
        }
        if case .loggedIn = outcome {} else { accountMethod = nil }
        switch outcome {
        case .loggedIn:
            state = .chatting(name: name, throttle: settings.throttle)
            return [.loggedIn]
        case .nameTaken:
            state = .awaitingName(failures: failures + 1)
            return [.error("The name \(name) is taken (names are compared ignoring case)."), Self.prompt]
        case .nameBanned:
            state = .awaitingName(failures: failures + 1)
            return [.error("The name \(name) is not available; choose another."), Self.prompt]
        case .addressBanned:
            return [.error("Your address is banned from this server.")] + close(.banned)
        case .clusterUnavailable:
            return [.error(Self.pausedLine + " Try logging in again in a moment."), Self.prompt]
        }
    }
}
