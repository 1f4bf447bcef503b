import NIOCore
import PostgresNIO

/// A direct message or a kick for a member of another node, stored in `securechat_relays` for that node (a
/// notification only rings its doorbell): a forged notification finds nothing to deliver, and a relay sent
/// while that node's listener reconnects is taken at its catch-up.
struct Relay: Sendable {
    enum Kind: Sendable {
        /// Stored as what it is (the sender in `by_name`, the text in `line`), rendered by the recipient's node.
        case directMessage(from: String, text: String)
        case kick(action: String, by: String, reason: String?)
    }

    let member: RemoteMember
    let kind: Kind

    /// One statement: the row and its doorbell commit together, and only while the sending node's incarnation is
    /// registered and not declared down (a share lock on its row, as for batches of lines): a node cut off and
    /// declared down never delivers a DM or a kick it had queued. Returns a row only when the relay was stored.
    func query(from node: String, incarnation: Int64) -> PostgresQuery {
        switch kind {
        case .directMessage(let from, let text):
            return """
                WITH stored AS (
                    INSERT INTO securechat_relays (node, name_key, kind, line, by_name)
                    SELECT \(member.node), \(member.nameKey), 'dm', \(text), \(from)
                    FROM (SELECT 1 FROM securechat_nodes
                        WHERE name = \(node) AND incarnation = \(incarnation) AND NOT declared_dead FOR SHARE) AS alive
                    RETURNING node)
                SELECT pg_notify('securechat', json_build_object('k', 'm', 'n', node)::text) FROM stored
                """
        case .kick(let action, let by, let reason):
            return """
                WITH stored AS (
                    INSERT INTO securechat_relays (node, name_key, kind, action, by_name, reason)
                    SELECT \(member.node), \(member.nameKey), 'kick', \(action), \(by), \(reason)
                    FROM (SELECT 1 FROM securechat_nodes
                        WHERE name = \(node) AND incarnation = \(incarnation) AND NOT declared_dead FOR SHARE) AS alive
                    RETURNING node)
                SELECT pg_notify('securechat', json_build_object('k', 'm', 'n', node)::text) FROM stored
                """
        }
    }
}

extension ClusterLink {
    /// Most relays taken per query; a longer queue is taken in several.
    static let relayPage = 500

    /// Carries out every relay waiting for this node, oldest first, then deletes them. A relay whose delete
    /// was lost (the connection cut in between) is read again later and skipped (``RecentRelays``), so each is
    /// carried out exactly once, whichever doorbell or catch-up got there first.
    func takeRelays(on connection: PostgresConnection) async throws {
        guard let hub else { return }
        while true {
            let rows = try await connection.query(
                """
                SELECT id, kind, name_key, line, action, by_name, reason FROM securechat_relays
                WHERE node = \(nodeName) ORDER BY id LIMIT \(Self.relayPage)
                """, logger: logger)
            var read: [Int64] = []
            for try await (id, kind, key, line, action, by, reason) in rows.decode(
                (Int64, String, String, String, String, String, String?).self)
            {
                read.append(id)
                guard state.withLockedValue({ $0.recentRelays.insert(id) }) else { continue }
                switch kind {
                case "dm":
                    guard let message = StoredEvent.directMessage(sender: by, body: line) else { continue }
                    await hub.deliverRelayedDirectMessage(to: key, message)
                case "kick":
                    guard let action = CloseReason.Moderation.Action(rawValue: action) else { continue }
                    let by = ReceivedText.field(by)
                    let reason = reason.map(ReceivedText.field).flatMap { $0.isEmpty ? nil : $0 }
                    await hub.removeRelayed(key, reason: .removedByOperator(.init(action, by: by, reason: reason)))
                default:
                    continue
                }
            }
            if !read.isEmpty {
                try await connection.query(
                    "DELETE FROM securechat_relays WHERE id = ANY(\(read)::bigint[])", logger: logger)
            }
            if read.count < Self.relayPage { return }
        }
    }
}
