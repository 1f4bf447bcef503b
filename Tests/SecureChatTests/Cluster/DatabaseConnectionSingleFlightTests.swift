import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import SecureChat

/// Opening a ``DatabaseConnection`` is single-flight: however many callers find it closed at once, and however
/// often the database restarts, it holds one backend, never one per caller.
@Suite(
    "DatabaseConnection: opening is single-flight",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .serialized,  // one throwaway PostgreSQL at a time
    .timeLimit(.minutes(3))
)
struct DatabaseConnectionSingleFlightTests {
    static let callers = 24

    static func connection(to postgres: TestPostgres) throws -> DatabaseConnection {
        DatabaseConnection(
            configuration: try ClusterURL(postgres.url).connectionConfiguration(),
            keepalive: DatabaseKeepalive(nodeTimeout: .seconds(10)),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            id: 7, logger: ClusterForgedNotificationTests.logger)
    }

    /// Many callers at once, each running a query; every one must succeed.
    static func runConcurrently(on connection: DatabaseConnection) async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    try await connection.run(timeout: .seconds(10 * SanitizedBuild.timeFactor)) { connection in
                        var one = 0
                        for try await value in try await connection.query(
                            "SELECT 1", logger: ClusterForgedNotificationTests.logger
                        )
                        .decode(Int.self) {
                            one = value
                        }
                        return one
                    }
                }
            }
            for try await one in group { #expect(one == 1) }
        }
    }

    /// The server's client backends other than the one asking.
    static func backends(_ postgres: TestPostgres) async throws -> Int {
        try await ClusterForgedNotificationTests.withConnection(to: postgres, as: postgres.user) { connection in
            var count = 0
            for try await value in try await connection.query(
                "SELECT count(*)::bigint FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                logger: ClusterForgedNotificationTests.logger
            ).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    @Test("many callers that find no connection open exactly one backend between them")
    func concurrentOpenersShareOneConnect() async throws {
        try await TestPostgres.with { postgres in
            let connection = try Self.connection(to: postgres)
            try await Self.runConcurrently(on: connection)
            let open = try await Self.backends(postgres)
            await connection.drop()
            #expect(open == 1, "\(Self.callers) concurrent callers opened \(open) connections")
        }
    }

    @Test("after each of several database restarts, concurrent callers again hold exactly one backend")
    func restartsNeverLeak() async throws {
        try await TestPostgres.with { postgres in
            let connection = try Self.connection(to: postgres)
            do {
                try await Self.runConcurrently(on: connection)
                for restart in 1...3 {
                    try await postgres.pause()
                    try await postgres.resume()
                    // The first callers after the restart may still be handed the cut connection and fail with
                    // it; it is dropped, and the next round opens a new one.
                    try? await Self.runConcurrently(on: connection)
                    try await Self.runConcurrently(on: connection)
                    let open = try await Self.backends(postgres)
                    #expect(open == 1, "after restart \(restart): \(open) connections")
                }
            } catch {
                await connection.drop()
                throw error
            }
            await connection.drop()
        }
    }
}
