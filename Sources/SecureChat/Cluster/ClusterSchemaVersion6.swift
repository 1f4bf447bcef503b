import PostgresNIO

/// Schema version 6: joins and leaves are stored as what they are (`kind` `joined` or `left`, the member's name in
/// `sender_name`; a leave's text, which says how they left, in `body`), not as notice text, so every node shows
/// them to each client in its own format (a JSON client gets a `joined` object, as on a single node).
///
/// The table does not change; the kinds are documented on the column, and readers still show nothing for a kind
/// they do not know (`StoredEvent`). The version is what matters: a node of an older build refuses the migrated
/// database, rather than run beside newer nodes and show nobody coming and going.
enum ClusterSchemaVersion6 {
    static let statements: [PostgresQuery] = [
        """
        COMMENT ON COLUMN securechat_events.kind IS
            'chat, notice, joined or left (schema version 6); empty for a row of version 2, shown by its line'
        """
    ]
}
