import Logging
import NIOCore

/// One connection's life after accept: greeting, login, then commands and chat until it ends.
///
/// A session only ever talks to the hub and to its own outbox; it never touches another session.
struct Session {
    let info: ClientInfo
    let hub: Hub
    let outbox: Outbox
    let configuration: Configuration
    /// Where to point plaintext users who should switch to TLS.
    let tlsPort: Int?
    let counters: ServerCounters
    let logger: Logger
    /// Closes the connection if login does not finish in time; cancelled once it does.
    let loginTimer: Scheduled<Void>?

    /// State that lives as long as the connection.
    struct State {
        var name: Username?
        var room: RoomName = .lobby
        var isOperator = false
        var closeReason: String?
        var throttle: LineThrottle
        var idleMonitor: IdleMonitor?
    }

    func run(_ inbound: NIOAsyncChannelInboundStream<InboundLine>) async {
        var state = State(throttle: configuration.lineThrottle)
        await greet()
        do {
            for try await event in inbound {
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
                    if text.isEmpty { continue }
                    guard admit(&state) else { break }
                    if state.name == nil {
                        await login(text, state: &state)
                    } else {
                        state.idleMonitor?.touch()
                        await handle(text, state: &state)
                    }
                }
                if let reason = state.closeReason {
                    outbox.close(reason: reason)
                    break
                }
            }
        } catch {
            logger.debug("connection read failed", metadata: ["error": "\(error)"])
        }
        loginTimer?.cancel()
        state.idleMonitor?.stop()
        let reason = state.closeReason ?? outbox.closeReason ?? "connection closed"
        await hub.disconnect(info.id, reason: reason)
        logger.info("connection closed", metadata: ["reason": "\(reason)"])
    }

    // MARK: - Greeting and login

    private func greet() async {
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

    private func login(_ text: String, state: inout State) async {
        switch Username.validate(text) {
        case .failure(let problem):
            send(ServerLine.error("Cannot use that name: \(problem)."))
            promptForName()
        case .success(let name):
            switch await hub.login(info, name: name, outbox: outbox) {
            case .banned(let summary):
                send(ServerLine.error("You are banned from this server (\(summary))."))
                state.closeReason = "banned"
            case .nameTaken:
                send(ServerLine.error("The name \(name) is taken (names are compared ignoring case)."))
                promptForName()
            case .loggedIn(let room, let isOperator):
                loginTimer?.cancel()
                state.name = name
                state.room = room
                state.isOperator = isOperator
                state.idleMonitor = startIdleMonitor()
            }
        }
    }

    /// The rate limit, over every line (username attempts too). Refused lines get an error; sustained flooding
    /// disconnects.
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
