import Logging
import PostgresNIO
import Testing

@testable import SecureChat

/// The cluster's schema against a real, throwaway PostgreSQL: created from nothing, migrated once however many
/// nodes start at the same moment, and refused when the database is newer than the node.
@Suite(
    "Cluster: schema and migrations on PostgreSQL",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway server at a time: each initdb is a burst of disk and CPU
    .timeLimit(.minutes(5))
)
struct ClusterSchemaTests {
    static var logger: Logger {
        var logger = Logger(label: "cluster-schema-test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with a running client of `server`, then shuts the client down.
    static func withClient<T: Sendable>(
        _ server: TestPostgres,
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(
            configuration: .init(
                host: "127.0.0.1", port: server.port, username: server.user, password: nil,
                database: server.database, tls: .disable
            ),
            backgroundLogger: logger
        )
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            let result = try await body(client)
            group.cancelAll()
            return result
        }
    }

    static func count(_ query: PostgresQuery, _ client: PostgresClient) async throws -> Int {
        var result = 0
        for try await value in try await client.query(query, logger: logger).decode(Int.self) { result = value }
        return result
    }

    @Test("an empty database gets every table at the current version; migrating again changes nothing")
    func migratesFromNothing() async throws {
        try await TestPostgres.with { server in
            try await Self.withClient(server) { client in
                #expect(try await ClusterSchema.migrate(client, logger: Self.logger) == 0)
                let tables = try await Self.count(
                    "SELECT count(*)::bigint FROM information_schema.tables WHERE table_name LIKE 'securechat_%'",
                    client
                )
                #expect(tables == 11)  // version 4 added securechat_settings, version 5 the accounts and buckets
                #expect(try await ClusterSchema.migrate(client, logger: Self.logger) == ClusterSchema.currentVersion)
                let versions = try await Self.count("SELECT count(*)::bigint FROM securechat_schema", client)
                #expect(versions == ClusterSchema.currentVersion)
            }
        }
    }

    @Test("a version-2 database with a node and its lines migrates to the current version and keeps them")
    func migratesFromVersion2() async throws {
        try await TestPostgres.with { server in
            try await Self.withClient(server) { client in
                try await client.query(
                    """
                    CREATE TABLE securechat_schema (
                        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: Self.logger)
                for (index, statements) in ClusterSchema.migrations.prefix(2).enumerated() {
                    for statement in statements { try await client.query(statement, logger: Self.logger) }
                    try await client.query(
                        "INSERT INTO securechat_schema (version) VALUES (\(index + 1))", logger: Self.logger)
                }
                try await client.query("SELECT * FROM securechat_register('a:9000', 7, 60000)", logger: Self.logger)
                try await client.query(
                    "SELECT securechat_publish('a:9000', '{#lobby}', '{5}', '{\"alice: hi\"}', '{}', '{}', '{}')",
                    logger: Self.logger)

                #expect(try await ClusterSchema.migrate(client, logger: Self.logger) == 2)
                // The line of version 2 keeps its rendered line and has no kind; one committed now is an event.
                try await client.query(
                    """
                    SELECT securechat_publish('a:9000', '{#lobby}', '{5}', '{chat}', '{alice}', '{again}', '{}', '{}',
                        '{}')
                    """, logger: Self.logger)
                let rows = try await Self.count(
                    """
                    SELECT (count(*) FILTER (WHERE sequence = 1 AND kind = '' AND sender_node = ''
                            AND convert_from(line, 'UTF8') = 'alice: hi')
                        + 10 * count(*) FILTER (WHERE sequence = 2 AND kind = 'chat' AND sender_name = 'alice'
                            AND sender_node = 'a:9000' AND sender_connection = 5 AND body = 'again'))::bigint
                    FROM securechat_events
                    """, client)
                #expect(rows == 11)
                // The node registered under version 2, its heartbeat fresh, is taken over by its own incarnation
                // only.
                await #expect(throws: PSQLError.self) {
                    // A function's error comes with its rows, so they are read.
                    for try await _ in try await client.query(
                        "SELECT * FROM securechat_register('a:9000', 8, 60000, 6)", logger: Self.logger)
                    {}
                }
                try await client.query(
                    "SELECT * FROM securechat_register('a:9000', 8, 60000, 7)", logger: Self.logger)
                #expect(
                    try await Self.count(
                        "SELECT count(*)::bigint FROM securechat_nodes WHERE name = 'a:9000' AND incarnation = 8",
                        client) == 1)
            }
        }
    }

    @Test("nodes starting at the same moment on an empty database migrate it exactly once")
    func concurrentStarts() async throws {
        try await TestPostgres.with { server in
            let found = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await Self.withClient(server) { client in
                            try await ClusterSchema.migrate(client, logger: Self.logger)
                        }
                    }
                }
                var found: [Int] = []
                for try await version in group { found.append(version) }
                return found.sorted()
            }
            // One found nothing and did the work; the others waited on the lock and found it done.
            #expect(found == [0, ClusterSchema.currentVersion, ClusterSchema.currentVersion])
            try await Self.withClient(server) { client in
                let versions = try await Self.count("SELECT count(*)::bigint FROM securechat_schema", client)
                #expect(versions == ClusterSchema.currentVersion)
            }
        }
    }

    @Test("a database migrated by a newer node is refused with both versions named")
    func newerDatabaseIsRefused() async throws {
        try await TestPostgres.with { server in
            try await Self.withClient(server) { client in
                try await ClusterSchema.migrate(client, logger: Self.logger)
                let future = ClusterSchema.currentVersion + 1
                try await client.query(
                    "INSERT INTO securechat_schema (version) VALUES (\(future))", logger: Self.logger)
                await #expect(throws: ClusterError.schemaTooNew(found: future, known: ClusterSchema.currentVersion)) {
                    try await ClusterSchema.migrate(client, logger: Self.logger)
                }
            }
        }
    }

    @Test("the schema keeps a name unique by its skeleton and a room's sequence numbers unique")
    func constraints() async throws {
        try await TestPostgres.with { server in
            try await Self.withClient(server) { client in
                try await ClusterSchema.migrate(client, logger: Self.logger)
                try await client.query(
                    "INSERT INTO securechat_nodes (name, incarnation) VALUES ('a:9000', 1)", logger: Self.logger
                )
                let key = Username.key(for: "alice")
                try await client.query(
                    "INSERT INTO securechat_presence (name_key, display_name, node, room) VALUES (\(key), 'alice', 'a:9000', '#lobby')",
                    logger: Self.logger
                )
                let lookalike = Username.key(for: "AIice")
                await #expect(throws: PSQLError.self) {
                    try await client.query(
                        "INSERT INTO securechat_presence (name_key, display_name, node, room) VALUES (\(lookalike), 'AIice', 'a:9000', '#lobby')",
                        logger: Self.logger
                    )
                }
                try await client.query("INSERT INTO securechat_rooms (name) VALUES ('#lobby')", logger: Self.logger)
                try await client.query(
                    "INSERT INTO securechat_events (room, sequence, line) VALUES ('#lobby', 1, 'x'::bytea)",
                    logger: Self.logger
                )
                await #expect(throws: PSQLError.self) {
                    try await client.query(
                        "INSERT INTO securechat_events (room, sequence, line) VALUES ('#lobby', 1, 'y'::bytea)",
                        logger: Self.logger
                    )
                }
            }
        }
    }
}

extension ClusterSchemaTests {
    @Test(
        "a sweep that runs late (sent before the database froze) declares nobody down: the sweeper must have just beaten"
    )
    func lateSweepDeclaresNobodyDown() async throws {
        try await TestPostgres.with { server in
            try await Self.withClient(server) { client in
                _ = try await ClusterSchema.migrate(client, logger: Self.logger)
                // A and B, both silent for 10 s (the database was frozen): A's sweep, delivered only now, finds
                // its own heartbeat as old as B's.
                _ = try await client.query(
                    """
                    INSERT INTO securechat_nodes (name, incarnation, heartbeat_at)
                    VALUES ('A', 1, now() - interval '10 seconds'), ('B', 2, now() - interval '10 seconds')
                    """, logger: Self.logger)
                let late = try await Self.count("SELECT count(*)::bigint FROM securechat_sweep('A', 5000)", client)
                let stillAlive: PostgresQuery =
                    "SELECT count(*)::bigint FROM securechat_nodes WHERE name = 'B' AND NOT declared_dead"
                #expect(late == 0)
                #expect(try await Self.count(stillAlive, client) == 1)
                // Once A has beaten (its sweep follows its heartbeat at once), B's silence counts.
                _ = try await client.query(
                    "UPDATE securechat_nodes SET heartbeat_at = now() WHERE name = 'A'", logger: Self.logger)
                _ = try await Self.count("SELECT count(*)::bigint FROM securechat_sweep('A', 5000)", client)
                #expect(try await Self.count(stillAlive, client) == 0)
            }
        }
    }
}
