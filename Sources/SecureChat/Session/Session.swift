import Logging
import NIOCore

/// Carries out one connection's ``SessionStateMachine``: renders its lines into the outbox, asks the hub what
/// it requests and feeds the replies back, and ends the connection when the machine says so. It holds no
/// mutable state but its uncommitted lines: the machine is handed in and back out by the connection's driver,
/// which never runs two calls at once, so nothing here can race.
///
/// A session only ever talks to the hub and to its own outbox; it never touches another session.
final class Session: Sendable {
    let info: ClientInfo
    let outbox: any ClientOutbox
    let context: ServerContext
    let log: ConnectionLog
    /// In a cluster, the chat lines sent and not yet committed.
    private let uncommitted = UncommittedLines()
    /// What this connection's lines are charged to in the address budget: its address and its /48.
    private let budgetKeys: [String]

    init(info: ClientInfo, outbox: any ClientOutbox, context: ServerContext, log: ConnectionLog) {
        self.info = info
        self.outbox = outbox
        self.context = context
        self.log = log
        self.budgetKeys = AddressLineBudget.keys(for: info.address)
    }

    /// What one call did, for the driver's timers.
    struct Progress: OptionSet {
        let rawValue: UInt8
        /// The user logged in: stop the login timer, start the idle clock.
        static let loggedIn = Progress(rawValue: 1)
        /// A logged-in user did something.
        static let active = Progress(rawValue: 2)
        /// The machine closed the connection: no later input may be processed.
        static let closing = Progress(rawValue: 4)
    }

    /// A new machine for this connection.
    func makeMachine() -> SessionStateMachine {
        SessionStateMachine(settings: context.sessionSettings, transport: info.transport, connectedAt: info.connectedAt)
    }

    /// The greeting, with the number of users online as of the hub's last step. Synchronous: the count is the
    /// one thing it needs from the hub, and the hub publishes it.
    func greet(_ machine: SessionStateMachine) {
        for action in machine.greeting(usersOnline: context.hub.publishedOnlineCount) {
            guard case .show(let event) = action else { preconditionFailure("a greeting is events only") }
            outbox.send(event)
        }
    }

    /// One line from the decoder.
    func process(
        _ input: InboundLine,
        _ machine: SessionStateMachine
    ) async -> (SessionStateMachine, Progress) {
        var machine = machine
        let actions: [SessionAction]
        switch input {
        case .line(var bytes):
            context.counters.bytesReceived.add(bytes.readableBytes + 1, ordering: .relaxed)
            let role = outbox.format == .json ? Self.takeRole(from: &bytes) : nil
            let text = TextSanitizer.sanitize(bytes)
            let now = NIODeadline.now()
            actions = machine.receive(.line(text, role: role), now: now) { bytes in
                context.addressBudget.admit(keys: budgetKeys, bytes: bytes, now: now)
            }
        case .overlong:
            actions = machine.receive(.overlong, now: .now())
        case .tlsOnPlaintextPort:
            actions = machine.receive(.tlsOnPlaintextPort, now: .now())
        }
        return await perform(actions, machine)
    }

    /// Takes off the role marker the WebSocket codec puts in front of a `login` or `password` request's line
    /// (``ClientMessage/Role``): the machine decides what the role allows.
    private static func takeRole(from bytes: inout ByteBuffer) -> SessionInput.Role? {
        guard let marker = bytes.readableBytesView.first, let role = ClientMessage.Role(rawValue: marker) else {
            return nil
        }
        bytes.moveReaderIndex(forwardBy: 1)
        switch role {
        case .password: return .password
        case .login: return .login
        }
    }

    /// The end of the connection, for `reason`: leaves the hub (which tells the room). When the input of a
    /// connection that never logged in ends while no line is being processed, its driver calls only `logEnd`:
    /// the hub never knew it.
    func end(reason: CloseReason, readError: (any Error)?) async {
        await context.hub.remove(info.id, reason: reason)
        logEnd(reason: reason, readError: readError)
    }

    /// The connection's last log lines.
    func logEnd(reason: CloseReason, readError: (any Error)?) {
        if let readError {
            log.log(.debug, "connection read failed", metadata: ["error": "\(readError)"])
        }
        log.log(.info, "connection closed", metadata: ["reason": "\(reason.leaveText)"])
    }

    /// Logs in: at once when alone; in a cluster the name is first claimed in the database, between the hub's
    /// reservation and its admission, so two nodes can never both give it out.
    private func logIn(_ name: Username) async -> LoginOutcome {
        guard let cluster = context.cluster else {
            return await context.hub.login(info, name: name, outbox: outbox)
        }
        if let refusal = await context.hub.reserveLogin(info, name: name) { return refusal }
        let claim = await cluster.claim(name, for: info)
        return await context.hub.completeLogin(info, name: name, outbox: outbox, claim: claim)
    }

    /// Asks the hub. In a cluster, joining a room that no user of this node is in first reads its history from
    /// the database, here, outside the hub (the hub keeps the lines only of rooms its users are in).
    private func ask(_ request: HubRequest) async -> HubReply {
        guard case .join(let room) = request, let cluster = context.cluster,
            await context.hub.needsSnapshot(of: room)
        else {
            return await context.hub.handle(request, from: info.id)
        }
        guard let snapshot = await cluster.roomSnapshot(of: room) else { return .join(room, .clusterUnavailable) }
        return await context.hub.join(info.id, loading: snapshot)
    }

    /// Carries out `actions` in order; a hub reply's actions run right after the request that caused them.
    private func perform(
        _ actions: [SessionAction],
        _ machine: SessionStateMachine
    ) async -> (SessionStateMachine, Progress) {
        var machine = machine
        var progress: Progress = []
        var pending = actions
        var next = 0
        while next < pending.count {
            let action = pending[next]
            next += 1
            switch action {
            case .show(let event):
                outbox.send(event)
            case .login(let name):
                let outcome = await logIn(name)
                pending.insert(contentsOf: machine.receive(.login(name, outcome)), at: next)
            case .lookUpAccount(let name):
                let lookup = context.accounts?.lookUp(name, certificate: info.certificateFingerprint) ?? .unregistered
                pending.insert(contentsOf: machine.receive(lookup, for: name), at: next)
            case .checkPassword(let account, let password):
                let check = await checkPassword(password, for: account)
                pending.insert(contentsOf: machine.receive(check, for: account), at: next)
            case .account(let request):
                let reply = await perform(request)
                pending.insert(contentsOf: machine.receive(reply), at: next)
            case .logInToAccount(let name, let method):
                let outcome = await logIn(to: name, by: method)
                pending.insert(contentsOf: machine.receive(.login(name, outcome)), at: next)
            case .request(let request):
                let isChatLine = if case .say = request { true } else { false }
                if !isChatLine { await uncommitted.settle() }
                var reply = await ask(request)
                if isChatLine, case .pending(let receipt, _) = reply {
                    // Not awaited (see UncommittedLines): the sender reads on while the line is committed.
                    receipt.whenResolved { [outbox] outcome in
                        if let refusal = SessionStateMachine.refusal(outcome) { outbox.send(.error(refusal)) }
                    }
                    await uncommitted.add(receipt)
                    continue
                }
                if case .pending(let receipt, let confirmation) = reply {
                    // Awaited here, outside the hub: the hub goes on with everyone else meanwhile.
                    let outcome = await receipt.outcome
                    if outcome == .committed, let confirmation { outbox.send(.preformatted(confirmation)) }
                    reply = .commit(outcome)
                }
                pending.insert(contentsOf: machine.receive(reply), at: next)
            case .loggedIn:
                progress.insert(.loggedIn)
            case .active:
                progress.insert(.active)
            case .count(let event):
                context.counters.increment(event)
            case .close(let reason):
                progress.insert(.closing)
                // A refused line is still reported before the connection ends.
                await uncommitted.settle()
                if reason.isNoteworthy {
                    log.log(.notice, "closing the connection", metadata: ["reason": "\(reason.leaveText)"])
                }
                await context.hub.remove(info.id, reason: reason)
                outbox.close(reason: reason)
            }
        }
        return (machine, progress)
    }
}
