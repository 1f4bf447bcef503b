import NIOCore

/// What a cluster (`--cluster`) adds to a session's steps: a name is claimed in the database between the hub's
/// reservation and its admission, a room the hub keeps no lines of is read from the database before the join,
/// and what must be committed first is either watched (a chat line) or awaited (anything else). Each is an
/// action the session carries out and an answer it feeds back here, so the order is tested without a database.
extension SessionStateMachine {
    /// What `/join` finds out before asking the hub (`.loadRoom`).
    public enum RoomLoad: Sendable {
        /// The hub keeps the room's lines: a plain join.
        case held
        /// The room's history, read from the database.
        case loaded(LoadedRoom)
        /// The database could not be read.
        case unavailable
    }

    /// Logging in under `name` (to its account, when `account` is set): one hub call when alone; in a cluster,
    /// the hub's reservation first.
    func logIn(_ name: Username, account: LoginMethod?) -> SessionAction {
        guard settings.clustered else { return account.map { .logInToAccount(name, $0) } ?? .login(name) }
        return .reserveName(name, account: account)
    }

    /// The hub's answer to `.reserveName`: nil when it holds the name for this connection. A held name is always
    /// claimed and then completed (the hub keeps the reservation until `.completeLogin`), whatever the state.
    public mutating func receive(
        reservation refusal: LoginOutcome?, for name: Username, account: LoginMethod?
    ) -> [SessionAction] {
        if let refusal { return receive(.login(name, refusal)) }
        // Taking a name over: an older connection's departure committed after the take-over would delete the
        // new presence row, so the node's queued departures are committed first.
        if let account { return [.commitDepartures(name, account)] }
        return [.claimName(name, takingOver: false, account: nil)]
    }

    /// The answer to `.commitDepartures`: whether everything this node had queued is committed.
    public mutating func receive(
        departuresCommitted: Bool, for name: Username, account: LoginMethod
    ) -> [SessionAction] {
        guard departuresCommitted else { return [.completeLogin(name, .unavailable, account: account)] }
        return [.claimName(name, takingOver: true, account: account)]
    }

    /// The database's answer to `.claimName`.
    public mutating func receive(_ claim: NameClaim, for name: Username, account: LoginMethod?) -> [SessionAction] {
        [.completeLogin(name, claim, account: account)]
    }

    /// The hub's request for a command: in a cluster, anything but a chat line first waits for this session's
    /// chat lines to be committed, so that what follows a line (a `/msg`, a `/whois`) happens after it; and
    /// `/join` first finds out whether the room must be read from the database.
    func request(_ request: HubRequest) -> [SessionAction] {
        guard settings.clustered else { return [.request(request)] }
        switch request {
        case .say: return [.request(request)]
        case .join(let room): return [.settleLines, .loadRoom(room)]
        default: return [.settleLines, .request(request)]
        }
    }

    /// The answer to `.loadRoom`.
    public mutating func receive(_ load: RoomLoad, for room: RoomName) -> [SessionAction] {
        switch load {
        case .held: return [.request(.join(room))]
        case .loaded(let loaded): return [.joinLoaded(loaded)]
        case .unavailable: return receive(.join(room, .clusterUnavailable))
        }
    }

    /// The hub's reply to `.request(request)` (or to `.joinLoaded`, as to a `/join`). A reply `.pending` a
    /// commit is watched when it is a chat line's (the sender reads on; see `UncommittedLines`) and awaited
    /// otherwise; every other reply is `receive(_:)`'s.
    public mutating func receive(_ reply: HubReply, to request: HubRequest) -> [SessionAction] {
        guard case .pending(let receipt, let confirmation) = reply else { return receive(reply) }
        if case .say = request { return [.watchCommit(receipt)] }
        return [.awaitCommit(receipt, confirmation: confirmation)]
    }

    /// How an awaited commit (`.awaitCommit`) went: its confirmation once committed, else why it did not.
    public mutating func receive(committed outcome: CommitOutcome, confirmation: ChatEvent?) -> [SessionAction] {
        let answer = receive(.commit(outcome))
        guard outcome == .committed, let confirmation else { return answer }
        return [.show(confirmation)] + answer
    }
}
