import NIOCore
import PostgresNIO

/// What the work queue carries out, in order: presence, bans, and what other nodes must do for this one.
enum WorkItem: Sendable {
    /// `takingOver`: a log-in to the name's account, which takes the name from whoever holds it, on any node.
    case claim(Username, ClientInfo, takingOver: Bool, CheckedContinuation<NameClaim, Never>)
    case relay(Relay, receipt: CommitReceipt?)
    case banAdded(Ban)
    case bansLifted([Ban])
    /// This node's presence rows are checked against its hub (``ClusterLink/reconcileOwnPresence()``).
    case reconcilePresence
}

/// Presence, bans and relays: one queue, carried out in order on the work connection, so a logout and the
/// next login under that name can never swap places.
extension ClusterLink {
    /// Claims `name` for a login here; the answer decides whether the hub admits it. With `takingOver` (a log-in
    /// to the name's account) the name is taken from whoever holds it on another node, whose node then closes
    /// that connection when the doorbell rings (``Hub/addRemote(_:)``).
    func claim(_ name: Username, for info: ClientInfo, takingOver: Bool = false) async -> NameClaim {
        await withCheckedContinuation { continuation in
            enqueue(.claim(name, info, takingOver: takingOver, continuation))
        }
    }

    public func relayDirectMessage(from sender: String, text: String, to member: RemoteMember, receipt: CommitReceipt) {
        enqueue(.relay(Relay(member: member, kind: .directMessage(from: sender, text: text)), receipt: receipt))
    }

    public func relayKick(of member: RemoteMember, reason: CloseReason) {
        guard case .removedByOperator(let moderation) = reason else { return }
        let kick = Relay.Kind.kick(action: moderation.action.rawValue, by: moderation.by, reason: moderation.reason)
        enqueue(.relay(Relay(member: member, kind: kick), receipt: nil))
    }

    public func banAdded(_ ban: Ban) {
        enqueue(.banAdded(ban))
    }

    public func bansLifted(_ bans: [Ban]) {
        enqueue(.bansLifted(bans))
    }

    /// Queues a check of this node's presence rows against its hub, unless one is already waiting.
    func scheduleReconciliation() {
        let queued = state.withLockedValue { state -> Bool in
            let waiting = state.work.contains { item in
                if case .reconcilePresence = item { return true }
                return false
            }
            if !waiting { state.work.append(.reconcilePresence) }
            return !waiting
        }
        if queued { workWakeUps.yield() }
    }

    /// Queues `item`, unless the queue is full: then a claim is answered "unavailable" and a DM "not sent" at
    /// once. Ban changes, which only operators make, are always queued.
    private func enqueue(_ item: WorkItem) {
        let accepted = state.withLockedValue { state -> Bool in
            switch item {
            case .claim, .relay:
                guard state.work.count < configuration.workQueueLimit else { return false }
            case .banAdded, .bansLifted, .reconcilePresence:
                break
            }
            state.work.append(item)
            return true
        }
        guard accepted else {
            switch item {
            case .claim(_, _, _, let continuation): continuation.resume(returning: .unavailable)
            case .relay(_, let receipt): receipt?.resolve(.notSent)
            case .banAdded, .bansLifted, .reconcilePresence: break
            }
            metrics.workRefused.increment()
            return
        }
        workWakeUps.yield()
    }

    func workLoop() async {
        for await _ in workSignals {
            while let item = state.withLockedValue({ $0.work.isEmpty ? nil : $0.work.removeFirst() }) {
                await perform(item)
            }
        }
    }

    private func perform(_ item: WorkItem) async {
        do {
            switch item {
            case .claim(let name, let info, let takingOver, let continuation):
                guard isLinked else { return continuation.resume(returning: .unavailable) }
                do {
                    continuation.resume(returning: try await insertPresence(name, info, takingOver: takingOver))
                } catch {
                    logger.warning("could not claim a name", metadata: ["error": "\(ClusterError.reason(error))"])
                    continuation.resume(returning: .unavailable)
                    // Refused by the server, nothing was written; otherwise the claim may have committed, and
                    // the row it left, which no member here holds, is removed by the next check.
                    if (error as? PSQLError)?.code != .server { scheduleReconciliation() }
                    throw error
                }
            case .relay(let relay, let receipt):
                guard isLinked else {
                    receipt?.resolve(.notSent)
                    return
                }
                do {
                    // Fenced as the publisher's batches: stored only while this incarnation is registered.
                    let sendingAs = incarnation
                    let query = relay.query(from: nodeName, incarnation: sendingAs)
                    let sent = try await workConnection.run { [logger] connection in
                        var sent = false
                        for try await _ in try await connection.query(query, logger: logger) { sent = true }
                        return sent
                    }
                    receipt?.resolve(sent ? .committed : .notSent)
                    if !sent { await lostPlace(incarnation: sendingAs) }
                } catch {
                    receipt?.resolve((error as? PSQLError)?.code == .server ? .notSent : .uncertain)
                    throw error
                }
            case .banAdded(let ban):
                let key = ban.name.map(Username.key(for:))
                let network = ban.network?.description
                let at = ban.bannedAt.secondsSinceEpoch
                try await execute(
                    """
                    WITH added AS (
                        INSERT INTO securechat_bans (name_key, display_name, network, banned_by, banned_at, reason)
                        VALUES (\(key), \(ban.name), \(network)::cidr, \(ban.bannedBy), to_timestamp(\(at)), \(ban.reason))
                        RETURNING id)
                    SELECT pg_notify('securechat', '{"k":"b"}') FROM added
                    """)
            case .bansLifted(let lifted):
                let keys = lifted.map { $0.name.map(Username.key(for:)) ?? "" }
                let networks = lifted.map { $0.network?.description ?? "" }
                try await execute(
                    """
                    WITH lifted AS (
                        DELETE FROM securechat_bans b USING unnest(\(keys)::text[], \(networks)::text[]) AS t(k, n)
                        WHERE coalesce(b.name_key, '') = t.k AND coalesce(b.network::text, '') = t.n
                        RETURNING b.id)
                    SELECT pg_notify('securechat', '{"k":"b"}') FROM (SELECT 1 FROM lifted LIMIT 1) AS any_lifted
                    """)
            case .reconcilePresence:
                guard isLinked else { return }
                try await reconcileOwnPresence()
            }
        } catch {
            // Presence is put right when the link comes back (the listener reconciles it); a failed ban was
            // refused to the operator before it got here only if the link was known to be down.
            logger.warning("cluster update failed", metadata: ["error": "\(ClusterError.reason(error))"])
        }
    }

    private func execute(_ query: PostgresQuery) async throws {
        _ = try await workConnection.run { [logger] connection in
            try await connection.query(query, logger: logger)
        }
    }

    private func insertPresence(_ name: Username, _ info: ClientInfo, takingOver: Bool) async throws -> NameClaim {
        let transport = TransportCoding.encode(info.transport)
        let order = try await workConnection.run { [logger, nodeName, incarnation] connection in
            let rows = try await connection.query(
                takingOver
                    ? """
                    SELECT securechat_take_over(\(name.key), \(name.display), \(nodeName), \(incarnation), '#lobby',
                        \(transport), \(info.certificateFingerprint), \(info.address))
                    """
                    : """
                    SELECT securechat_claim(\(name.key), \(name.display), \(nodeName), \(incarnation), '#lobby',
                        \(transport), \(info.certificateFingerprint), \(info.address))
                    """, logger: logger)
            var order: Int64?
            for try await value in rows.decode(Int64?.self) { order = value }
            return order
        }
        return order.map { .won(loginOrder: $0) } ?? .taken
    }
}

/// How a member's transport is written in the presence table: `plaintext` or `tls/<version>/<cipher>`.
enum TransportCoding {
    static func encode(_ transport: Transport) -> String {
        switch transport {
        case .plaintext: return "plaintext"
        case .tls(let version, let cipher): return "tls/\(version)/\(cipher)"
        }
    }

    static func decode(_ text: String) -> Transport {
        let parts = text.split(separator: "/", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "tls" else { return .plaintext }
        return .tls(version: parts[1], cipher: parts[2])
    }
}
