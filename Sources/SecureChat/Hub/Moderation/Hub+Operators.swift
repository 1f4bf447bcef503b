import NIOCore

/// Operators: who holds the role, how it passes on, and `/kick`.
extension Hub {
    /// Under the first-user rule, whether a member arriving with `loginOrder` takes the operator role: when
    /// nobody holds it, or when they logged in before its holder (in a cluster a login of another node can
    /// arrive late: two nodes' notifications race, and the oldest login anywhere must win on every node). The
    /// holder they succeed loses the role here, silently: on every node the same presence gives the same answer.
    /// On a single node, login order is arrival order, so only the first condition ever holds.
    func takeFirstUserRole(loginOrder: UInt64) -> Bool {
        guard hasFirstUserRule else { return false }
        guard let current = operators.first.flatMap({ members[$0] }) else { return true }
        guard loginOrder < current.loginSequence else { return false }
        members[current.info.id]?.isOperator = false
        operators.remove(current.info.id)
        return true
    }

    /// Without configured operators (certificates or accounts) the first user is operator.
    var hasFirstUserRule: Bool {
        configuration.operatorFingerprints.isEmpty && configuration.operatorAccounts.isEmpty
    }

    /// Holds a configured operator certificate (whatever the role says now).
    func isConfiguredOperator(_ info: ClientInfo) -> Bool {
        guard let fingerprint = info.certificateFingerprint else { return false }
        return configuration.operatorFingerprints.contains(fingerprint)
    }

    /// Under the first-client rule, the role passes to the longest-connected remaining user (in a cluster: the
    /// oldest login of everyone on every node, by the database's login order), announced to all. Configured
    /// operators are never replaced by someone else.
    func passOperatorRole(from previous: Member) {
        guard hasFirstUserRule, operators.isEmpty else { return }
        guard let heir = members.values.min(by: { $0.loginSequence < $1.loginSequence }) else { return }
        hand(to: heir, announcing: "\(heir.name) is now the operator (\(previous.name) left).")
    }

    /// Under the first-client rule, an operator who has sent nothing for `operatorIdleLimit` loses the role to
    /// the longest-connected user who has sent something within it, so an idle bot that connected first does
    /// not keep the role for ever. Looked at when anyone asks the hub anything, at most once a minute (finding
    /// the heir is a walk over everyone).
    func replaceIdleOperator(now: NIODeadline) {
        // In a cluster the role goes by login order alone (activity is not shared between nodes).
        guard cluster == nil, hasFirstUserRule, let operatorID = operators.first,
            let current = members[operatorID], now - current.lastActive > configuration.operatorIdleLimit,
            now - lastIdleOperatorCheck >= Self.idleOperatorCheckInterval
        else { return }
        lastIdleOperatorCheck = now
        let heir = members.values.filter { member in
            member.info.id != operatorID && member.hasSpoken
                && now - member.lastActive <= configuration.operatorIdleLimit
        }.min { $0.loginSequence < $1.loginSequence }
        guard let heir else { return }
        members[operatorID]?.isOperator = false
        operators.remove(operatorID)
        deliver(
            ChatEvent.notice("You are no longer the operator: you have been idle too long."),
            to: .connection(operatorID))
        hand(to: heir, announcing: "\(heir.name) is now the operator (\(current.name) has been idle).")
    }

    static var idleOperatorCheckInterval: TimeAmount {
        .minutes(1)
    }

    private func hand(to heir: Member, announcing notice: String) {
        members[heir.info.id]?.isOperator = true
        operators.insert(heir.info.id)
        deliver(ChatEvent.notice(notice), to: .everyone)
        logger.info("operator role passed on", metadata: ["user": "\(heir.name)"])
    }

    /// Whether `id` is an operator right now.
    public func isOperator(_ id: ConnectionID) -> Bool {
        members[id]?.isOperator ?? false
    }

    /// `/kick`: disconnects `target`, telling them and their room who did it and why.
    public func kick(by id: ConnectionID, target: String, reason: String?) -> OperatorOutcome {
        switch checkTarget(by: id, target) {
        case .failure(let outcome): return outcome
        case .success(let op, let victim):
            expel(victim, by: op, .kicked, reason: reason)
            return .done
        }
    }

    enum TargetCheck {
        case success(operator: Member, victim: Member)
        case failure(OperatorOutcome)
    }

    func checkTarget(by id: ConnectionID, _ target: String) -> TargetCheck {
        guard let op = members[id] else { return .failure(.noSuchUser) }
        guard op.isOperator else { return .failure(.notOperator) }
        guard let victimID = idsByName[Username.key(for: target)], let victim = members[victimID] else {
            return .failure(.noSuchUser)
        }
        if victimID == id { return .failure(.cannotTargetSelf) }
        if victim.isOperator || isConfiguredOperator(victim.info) { return .failure(.targetIsOperator) }
        return .success(operator: op, victim: victim)
    }

    func expel(_ victim: Member, by op: Member, _ action: CloseReason.Moderation.Action, reason: String?) {
        let removal = CloseReason.removedByOperator(.init(action, by: op.name.display, reason: reason))
        if op.room != victim.room {
            deliver(
                ChatEvent.notice(removal.leaveNotice(name: victim.name.display, room: victim.room)),
                to: .connection(op.info.id)
            )
        }
        remove(victim.info.id, reason: removal)
    }
}
