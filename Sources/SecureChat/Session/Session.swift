import Logging
import NIOCore

/// Carries out one connection's ``SessionStateMachine``: sends the events it shows to the outbox (whose format
/// renders them), asks the hub, the accounts and the cluster's database what it asks and feeds the answers
/// back, and ends the connection when the machine says so. Every rule is the machine's; this is the I/O. It
/// holds no mutable state but its uncommitted lines: the machine is handed in and back out by the connection's
/// driver, which never runs two calls at once, so nothing here can race.
///
/// A session only ever talks to the server's services (``SessionServices``) and to its own outbox; it never
/// touches another session.
final class Session: Sendable {
    let info: ClientInfo
    let outbox: any ClientOutbox
    let services: any SessionServices
    let log: ConnectionLog
    /// In a cluster, the chat lines sent and not yet committed.
    private let uncommitted = UncommittedLines()
    /// What this connection's lines are charged to in the address budget: its address and its /48.
    private let budgetKeys: [String]

    init(info: ClientInfo, outbox: any ClientOutbox, context services: any SessionServices, log: ConnectionLog) {
        self.info = info
        self.outbox = outbox
        self.services = services
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
        SessionStateMachine(
            settings: services.sessionSettings, transport: info.transport, connectedAt: info.connectedAt)
    }

    /// The greeting, with the number of users online as of the hub's last step. Synchronous: the count is the
    /// one thing it needs from the hub, and the hub publishes it.
    func greet(_ machine: SessionStateMachine) {
        for action in machine.greeting(usersOnline: services.hub.publishedOnlineCount) {
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
        case .line(let bytes):
            actions = receive(bytes, role: nil, &machine)
        case .meant(let bytes, let role):
            actions = receive(bytes, role: role, &machine)
        case .overlong:
            actions = machine.receive(.overlong, now: .now())
        case .tlsOnPlaintextPort:
            actions = machine.receive(.tlsOnPlaintextPort, now: .now())
        }
        var progress: Progress = []
        await perform(actions, &machine, &progress)
        return (machine, progress)
    }

    /// A line's actions: sanitised, with the role its client gave it, and charged to the address's budget.
    private func receive(_ bytes: ByteBuffer, role: LineRole?, _ machine: inout SessionStateMachine) -> [SessionAction]
    {
        services.counters.bytesReceived.add(bytes.readableBytes + 1, ordering: .relaxed)
        let text = TextSanitizer.sanitize(bytes)
        let now = NIODeadline.now()
        return machine.receive(.line(text, role: role), now: now) { bytes in
            services.addressBudget.admit(keys: budgetKeys, bytes: bytes, now: now)
        }
    }

    /// The end of the connection, for `reason`: leaves the hub (which tells the room). When the input of a
    /// connection that never logged in ends while no line is being processed, its driver calls only `logEnd`:
    /// the hub never knew it.
    func end(reason: CloseReason, readError: (any Error)?) async {
        await services.hub.remove(info.id, reason: reason)
        logEnd(reason: reason, readError: readError)
    }

    /// The connection's last log lines.
    func logEnd(reason: CloseReason, readError: (any Error)?) {
        if let readError {
            log.log(.debug, "connection read failed", metadata: ["error": "\(readError)"])
        }
        log.log(.info, "connection closed", metadata: ["reason": "\(reason.leaveText)"])
    }

    /// Carries out `actions` in order. The machine's actions for an action's answer run right after that
    /// action, before the next one: a depth-first walk, which ends because no chain of answers comes back to a
    /// question asked before it (the longest is a cluster log-in: reserve, claim, complete, logged in).
    private func perform(
        _ actions: [SessionAction], _ machine: inout SessionStateMachine, _ progress: inout Progress
    ) async {
        for action in actions {
            let answer = await carryOut(action, &machine, &progress)
            if !answer.isEmpty { await perform(answer, &machine, &progress) }
        }
    }

    /// One action: its I/O, and the machine's actions for what it asked (none when it asked nothing).
    private func carryOut(
        _ action: SessionAction, _ machine: inout SessionStateMachine, _ progress: inout Progress
    ) async -> [SessionAction] {
        switch action {
        case .show(let event):
            outbox.send(event)
        case .login(let name):
            let outcome = await services.hub.login(info, name: name, outbox: outbox)
            return machine.receive(.login(name, outcome))
        case .lookUpAccount(let name):
            let lookup = services.accounts?.lookUp(name, certificate: info.certificateFingerprint) ?? .unregistered
            return machine.receive(lookup, for: name)
        case .checkPassword(let account, let password):
            let check = await checkPassword(password, for: account)
            return machine.receive(check, for: account)
        case .account(let request):
            let reply = await perform(request)
            return machine.receive(reply)
        case .logInToAccount(let name, let method):
            let outcome = await services.hub.login(info, name: name, outbox: outbox, account: method)
            await loggedIn(to: name, by: method, outcome)
            return machine.receive(.login(name, outcome))
        case .request(let request):
            let reply = await services.hub.handle(request, from: info.id)
            return machine.receive(reply, to: request)
        case .settleLines:
            await uncommitted.settle()
        case .reserveName(let name, let account):
            let refusal = await services.hub.reserveLogin(info, name: name, account: account)
            return machine.receive(reservation: refusal, for: name, account: account)
        case .commitDepartures(let name, let account):
            let committed = await services.cluster?.queuedCommitted() ?? true
            return machine.receive(departuresCommitted: committed, for: name, account: account)
        case .claimName(let name, let takingOver, let account):
            let claim = await services.cluster?.claim(name, for: info, takingOver: takingOver) ?? .unavailable
            return machine.receive(claim, for: name, account: account)
        case .completeLogin(let name, let claim, let account):
            let outcome = await services.hub.completeLogin(
                info, name: name, outbox: outbox, claim: claim, account: account)
            if let account { await loggedIn(to: name, by: account, outcome) }
            return machine.receive(.login(name, outcome))
        case .loadRoom(let room):
            let load = await load(room)
            return machine.receive(load, for: room)
        case .joinLoaded(let loaded):
            let reply = await services.hub.join(info.id, loading: loaded.snapshot)
            return machine.receive(reply, to: .join(loaded.room))
        case .watchCommit(let receipt):
            // Not awaited (see UncommittedLines): the sender reads on while the line is committed.
            receipt.whenResolved { [outbox] outcome in
                if let refusal = SessionStateMachine.refusal(outcome) { outbox.send(.error(refusal)) }
            }
            await uncommitted.add(receipt)
        case .awaitCommit(let receipt, let confirmation):
            // Awaited here, outside the hub: the hub goes on with everyone else meanwhile.
            let outcome = await receipt.outcome
            return machine.receive(committed: outcome, confirmation: confirmation)
        case .loggedIn:
            progress.insert(.loggedIn)
        case .active:
            progress.insert(.active)
        case .count(let event):
            services.counters.increment(event)
        case .close(let reason):
            progress.insert(.closing)
            if reason.isNoteworthy {
                log.log(.notice, "closing the connection", metadata: ["reason": "\(reason.leaveText)"])
            }
            await services.hub.remove(info.id, reason: reason)
            outbox.close(reason: reason)
        }
        return []
    }

    /// Whether the hub keeps `room`'s lines, and if not, its history from the database: read here, outside the
    /// hub, which keeps the lines only of rooms its users are in.
    private func load(_ room: RoomName) async -> SessionStateMachine.RoomLoad {
        guard await services.hub.needsSnapshot(of: room) else { return .held }
        guard let snapshot = await services.cluster?.roomSnapshot(of: room) else { return .unavailable }
        return .loaded(LoadedRoom(snapshot))
    }
}
