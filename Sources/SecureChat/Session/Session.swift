import Logging
import NIOCore

/// One connection's life after accept: greeting, login, then commands and chat until it ends.
///
/// A session only ever talks to the hub and to its own outbox; it never touches another session.
struct Session {
    let info: ClientInfo
    let hub: Hub
    let outbox: Outbox
    let settings: SessionSettings
    let logger: Logger
    /// Closes the connection if login does not finish in time; cancelled once it does.
    let loginTimer: Scheduled<Void>?

    /// State that lives as long as the connection.
    struct State {
        var name: Username?
        var room: RoomName = .lobby
        var isOperator = false
        var closeReason: String?
    }

    func run(_ inbound: NIOAsyncChannelInboundStream<InboundLine>) async {
        var state = State()
        await greet()
        do {
            for try await event in inbound {
                switch event {
                case .tlsOnPlaintextPort:
                    var message = "This is SecureChat's plaintext port and your client spoke TLS."
                    if let tlsPort = settings.tlsPort { message += " For TLS, connect to port \(tlsPort)." }
                    send(ServerLine.error(message))
                    logger.notice("TLS handshake on the plaintext port; closing")
                    state.closeReason = "TLS on plaintext port"
                case .overlong:
                    send(ServerLine.error("Line too long (over \(settings.maximumLineBytes) bytes); it was discarded."))
                case .line(let bytes):
                    let text = TextSanitizer.sanitize(bytes)
                    if text.isEmpty { continue }
                    if state.name == nil {
                        await login(text, state: &state)
                    } else {
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
            if let tlsPort = settings.tlsPort { line += " Use TLS on port \(tlsPort) for privacy." }
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
            }
        }
    }

    func send(_ line: ByteBuffer) {
        _ = outbox.enqueue(line)
    }
}

/// What a session needs to know about the server's settings.
struct SessionSettings: Sendable {
    var maximumLineBytes: Int
    var tlsPort: Int?
}
