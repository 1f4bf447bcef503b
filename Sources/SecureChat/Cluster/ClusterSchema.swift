import Logging
import PostgresNIO

/// The cluster's tables in PostgreSQL, created and migrated at start: versioned, one migration at a time in
/// its own transaction, and safe when several nodes start at once against an empty database, because every
/// node migrates under one advisory lock (the others wait, then find the work done).
///
/// Version 1 is what DESIGN.md's scale-out needs:
/// - `securechat_nodes`: each node's name, its incarnation (new at every start, so a node that comes back
///   after being declared dead can tell), and its heartbeat;
/// - `securechat_rooms`: each room's last sequence number; the row lock on it orders a room's lines;
/// - `securechat_events`: what was said, by room and sequence, the last `--history` of each room kept;
/// - `securechat_presence`: who is logged in where, unique by the name's look-alike skeleton;
/// - `securechat_bans`: the ban list, by name skeleton and/or network.
///
/// Version 2 (``ClusterSchemaVersion2``) adds what other nodes need to list a member, the cluster-wide login
/// order, and the functions that make each multi-step change one statement (so one round trip and one
/// transaction).
///
/// Version 3 (``ClusterSchemaVersion3``) makes notifications doorbells: events carry their sender, direct
/// messages and kicks are stored for their node, and a node can take over its own name after a crash.
///
/// Version 4 (``ClusterSchemaVersion4``) stores the settings the cluster shares; version 5
/// (``ClusterSchemaVersion5``) the accounts and the password-attempt buckets; version 6
/// (``ClusterSchemaVersion6``) stores joins and leaves as events of their own kinds.
public enum ClusterSchema {
    /// The newest schema version this build knows.
    public static var currentVersion: Int { migrations.count }

    /// The key of the advisory lock migrations take (any constant; "SecureCh" in ASCII).
    static let migrationLock: Int64 = 0x5365_6375_7265_4368

    /// Each migration is a list of statements (the extended query protocol takes one statement per query).
    static let migrations: [[PostgresQuery]] = [
        [
            """
            CREATE TABLE securechat_nodes (
                name text PRIMARY KEY,
                incarnation bigint NOT NULL,
                started_at timestamptz NOT NULL DEFAULT now(),
                heartbeat_at timestamptz NOT NULL DEFAULT now(),
                declared_dead boolean NOT NULL DEFAULT false
            )
            """,
            """
            CREATE TABLE securechat_rooms (
                name text PRIMARY KEY,
                last_sequence bigint NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE securechat_events (
                room text NOT NULL REFERENCES securechat_rooms(name),
                sequence bigint NOT NULL,
                line bytea NOT NULL,
                said_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (room, sequence)
            )
            """,
            """
            CREATE TABLE securechat_presence (
                name_key text PRIMARY KEY,
                display_name text NOT NULL,
                node text NOT NULL REFERENCES securechat_nodes(name) ON DELETE CASCADE,
                room text NOT NULL,
                logged_in_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX securechat_presence_by_node ON securechat_presence (node)",
            """
            CREATE TABLE securechat_bans (
                id bigserial PRIMARY KEY,
                name_key text,
                display_name text,
                network cidr,
                banned_by text NOT NULL,
                banned_at timestamptz NOT NULL DEFAULT now(),
                reason text,
                CHECK (name_key IS NOT NULL OR network IS NOT NULL)
            )
            """,
        ],
        ClusterSchemaVersion2.statements,
        ClusterSchemaVersion3.statements,
        ClusterSchemaVersion4.statements,
        ClusterSchemaVersion5.statements,
        ClusterSchemaVersion6.statements,
    ]

    /// Brings the database to `currentVersion` and returns the version it found. A database newer than this
    /// build (another node already upgraded) is an error: this node would not understand its tables.
    @discardableResult
    public static func migrate(_ client: PostgresClient, logger: Logger) async throws -> Int {
        try await client.withConnection { connection in try await migrate(connection, logger: logger) }
    }

    /// The same on one connection (the node's own, at start).
    @discardableResult
    public static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger)
        do {
            let found = try await migrateLocked(on: connection, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            return found
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            throw error
        }
    }

    /// Under the lock: creates the version table if needed, then applies each missing migration in its own
    /// transaction together with its version row.
    private static func migrateLocked(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS securechat_schema (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )
        let rows = try await connection.query("SELECT coalesce(max(version), 0) FROM securechat_schema", logger: logger)
        var found = 0
        for try await version in rows.decode(Int.self) { found = version }
        guard found <= currentVersion else {
            throw ClusterError.schemaTooNew(found: found, known: currentVersion)
        }
        for version in (found + 1)...max(found + 1, currentVersion) where version <= currentVersion {
            try await connection.query("BEGIN", logger: logger)
            for statement in migrations[version - 1] {
                try await connection.query(statement, logger: logger)
            }
            try await connection.query("INSERT INTO securechat_schema (version) VALUES (\(version))", logger: logger)
            try await connection.query("COMMIT", logger: logger)
            logger.notice("cluster schema migrated", metadata: ["version": "\(version)"])
        }
        return found
    }
}
