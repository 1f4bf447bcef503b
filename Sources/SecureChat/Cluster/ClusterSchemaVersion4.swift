import PostgresNIO

/// Schema version 4: settings the whole cluster shares, one row each.
///
/// - `history_lines`: how many lines per room the database keeps (pruning keeps at least these), stored by
///   the first node to register; a node started with another `--history` uses the stored one for pruning.
enum ClusterSchemaVersion4 {
    static let statements: [PostgresQuery] = [
        """
        CREATE TABLE securechat_settings (
            name text PRIMARY KEY,
            value bigint NOT NULL
        )
        """
    ]
}
