import Logging
import NIOCore

/// What every session shares: built once per server, so a session carries one reference, not a copy of the
/// configuration.
final class SessionEnvironment: Sendable {
    let hub: Hub
    let configuration: Configuration
    /// Where to point plaintext users who should switch to TLS.
    let tlsPort: Int?
    let counters: ServerCounters

    init(hub: Hub, configuration: Configuration, tlsPort: Int?, counters: ServerCounters) {
        self.hub = hub
        self.configuration = configuration
        self.tlsPort = tlsPort
        self.counters = counters
    }
}

/// One connection's life after accept: greeting, login, then commands and chat until it ends.
///
/// A session only ever talks to the hub and to its own outbox; it never touches another session.
///
/// It is driven by its connection's ``SessionDriver``: `greet()` once, `process(_:)` for each line in order,
/// `end(readError:)` once. The driver runs these one at a time, each call after the previous one returned (in
/// a task it starts when lines arrive, so an idle connection has no task). That serialisation is what makes
/// the mutable `state` safe, hence `@unchecked Sendable`.
final class Session: @unchecked Sendable {
    let info: ClientInfo
    let outbox: Outbox
    let environment: SessionEnvironment
    let log: ConnectionLog
    /// Closes the connection if login does not finish in time; cancelled (and dropped) once it does.
    private var loginTimer: Scheduled<Void>?
    private var state: State

    var hub: Hub { environment.hub }
    var configuration: Configuration { environment.configuration }
    var tlsPort: Int? { environment.tlsPort }
    var counters: ServerCounters { environment.counters }
    var logger: Logger { log.logger }

    /// State that lives as long as the connection.
    struct State {
        var name: Username?
        var room: RoomName = .lobby
        var closeReason: String?
        var throttle: LineThrottle
        /// Refused username attempts; login lines are bounded by count (and the login timeout), not by rate.
        var failedLogins = 0
        var idleMonitor: IdleMonitor?
    }

    init(info: ClientInfo, outbox: Outbox, environment: SessionEnvironment, log: ConnectionLog, loginTimer: Scheduled<Void>?) {
        self.info = info
        self.outbox = outbox
        self.environment = environment
        self.log = log
        self.loginTimer = loginTimer
        self.state = State(throttle: environment.configuration.lineThrottle)
    }

    /// Handles one event from the line decoder. Returns false once the session has decided to close the
    /// connection (the outbox is closing): later lines must not be processed.
    func process(_ event: InboundLine) async -> Bool {
        switch event {
        case .tlsOnPlaintextPort:
            var message = "This is SecureChat's plaintext port and your client spoke TLS."
            if let tlsPort { message += " For TLS, connect to port \(tlsPort)." }
            send(ServerLine.error(message))
            counters.increment(.tlsOnPlaintextPort)
            logger.notice("TLS handshake on the plaintext port; closing")
            state.closeReason = "TLS on plaintext port"
        case .overlong:
            send(ServerLine.error("Line too long (over \(configuration.maximumLineBytes) bytes); it was discarded."))
        case .line(let bytes):
            counters.bytesReceived.add(bytes.readableBytes + 1, ordering: .relaxed)
            let text = TextSanitizer.sanitize(bytes)
            if text.isEmpty { return true }
            if state.name == nil {
                await login(text, state: &state)
            } else if admit(&state) {
                state.idleMonitor?.touch()
                await handle(text, state: &state)
            }
        }
        if let reason = state.closeReason {
            outbox.close(reason: reason)
            return false
        }
        return true
    }

    /// The end of the session (the connection closed, failed, or the session closed it): leaves the hub.
    func end(readError: (any Error)?) async {
        if let readError {
            logger.debug("connection read failed", metadata: ["error": "\(readError)"])
        }
        loginTimer?.cancel()
        loginTimer = nil
        state.idleMonitor?.stop()
        let reason = state.closeReason ?? outbox.closeReason ?? "connection closed"
        await hub.disconnect(info.id, reason: reason)
        logger.info("connection closed", metadata: ["reason": "\(reason)"])
    }

    // MARK: - Greeting and login

    func greet() async {
        send(ServerLine.notice("Welcome to SecureChat."))
        switch info.transport {
        case .tls(let version, let cipher):
            send(ServerLine.notice("Your connection is encrypted: \(version), \(cipher)."))
        case .plaintext:
            var line = "Your connection is NOT encrypted: anyone on the network path can read it."
            if let tlsPort { line += " Use TLS on port \(tlsPort) for privacy." }
            send(ServerLine.notice(line))
        }
        let online = await hub.onlineCount
        send(ServerLine.notice("\(online) user\(online == 1 ? "" : "s") online."))
        promptForName()
    }

    private func promptForName() {
        send(ServerLine.notice("Choose a username (1-24 characters: letters, digits, _ and -):"))
    }

    /// Most refused usernames one connection may try before it is closed: enough for any person, too few to
    /// make the hub a target (every well-formed attempt is a hub call).
    static let maximumFailedLogins = 10

    private func login(_ text: String, state: inout State) async {
        if state.failedLogins >= Self.maximumFailedLogins {
            send(ServerLine.error("Too many refused names; goodbye."))
            state.closeReason = "too many login attempts"
            return
        }
        switch Username.validate(text) {
        case .failure(let problem):
            state.failedLogins += 1
            send(ServerLine.error("Cannot use that name: \(problem)."))
            promptForName()
        case .success(let name):
            switch await hub.login(info, name: name, outbox: outbox) {
            case .banned(let summary):
                send(ServerLine.error("You are banned from this server (\(summary))."))
                state.closeReason = "banned"
            case .nameTaken:
                state.failedLogins += 1
                send(ServerLine.error("The name \(name) is taken (names are compared ignoring case)."))
                promptForName()
            case .loggedIn(let room, _):
                loginTimer?.cancel()
                loginTimer = nil
                state.name = name
                state.room = room
                state.idleMonitor = startIdleMonitor()
            }
        }
    }

    /// The rate limit, over every line after login. Refused lines get an error; sustained flooding disconnects.
    private func admit(_ state: inout State) -> Bool {
        switch state.throttle.check(now: .now()) {
        case .accept:
            return true
        case .refuse:
            counters.increment(.rateLimitedLine)
            let rate = configuration.ratePerSecond
            let shown = rate == rate.rounded() ? String(Int(rate)) : String(rate)
            send(ServerLine.error("You are sending too fast (limit \(shown) lines/s); that line was dropped. Slow down."))
            return false
        case .disconnect:
            counters.increment(.floodDisconnect)
            send(ServerLine.error("Disconnected for flooding."))
            logger.notice("disconnecting a flooding client")
            state.closeReason = "flooding"
            return false
        }
    }

    private func startIdleMonitor() -> IdleMonitor? {
        guard let timeout = configuration.idleTimeout else { return nil }
        let outbox = self.outbox
        let counters = self.counters
        let monitor = IdleMonitor(
            timeout: timeout,
            eventLoop: outbox.eventLoop,
            onWarning: { left in
                let seconds = max(1, Int((Double(left.nanoseconds) / 1e9).rounded()))
                _ = outbox.enqueue(
                    ServerLine.notice("You have been idle; you will be disconnected in \(seconds) s unless you send something.")
                )
            },
            onExpiry: {
                counters.increment(.idleTimeout)
                outbox.close(reason: "idle timeout")
            }
        )
        monitor.start()
        return monitor
    }

    func send(_ line: ByteBuffer) {
        _ = outbox.enqueue(line)
    }
}
