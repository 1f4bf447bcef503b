import Logging
import NIOCore
import PostgresNIO

/// One connection to the cluster's database, opened when first needed and opened again after it fails.
///
/// A node keeps three: the listener's, the publisher's and one for everything else, so a batch of lines
/// never waits behind a login and a notification never waits behind either. Every use has a deadline: a
/// database that stops answering must turn into an error the user is told, not a hang.
actor DatabaseConnection {
    private let configuration: PostgresConnection.Configuration
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let id: Int
    private var connection: PostgresConnection?

    init(configuration: PostgresConnection.Configuration, eventLoop: any EventLoop, id: Int, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.id = id
        self.logger = logger
    }

    /// The open connection, or a new one.
    func open() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let fresh = try await withDeadline(.seconds(5)) { [configuration, eventLoop, id, logger] in
            try await PostgresConnection.connect(
                on: eventLoop, configuration: configuration, id: id, logger: logger)
        }
        connection = fresh
        return fresh
    }

    /// Runs `body` on the connection within `timeout`. When it fails or times out, the connection is closed,
    /// so that the next use starts from a fresh one.
    func run<T: Sendable>(
        timeout: TimeAmount = .seconds(5),
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await open()
        do {
            return try await withDeadline(timeout) { try await body(connection) }
        } catch let error as PSQLError where error.code == .server {
            throw error  // the database answered (a constraint, a refusal): the connection is fine
        } catch {
            await drop(connection)
            throw error
        }
    }

    /// Closes the connection (at shutdown, or when a caller saw it fail).
    func drop(_ failed: PostgresConnection? = nil) async {
        guard let connection, failed == nil || failed === connection else { return }
        self.connection = nil
        try? await connection.close()
    }
}

/// Why a database call gave up.
struct DatabaseTimeout: Error, CustomStringConvertible {
    var description: String { "the cluster database did not answer in time" }
}

/// Runs `body`, or throws ``DatabaseTimeout`` once `timeout` has passed (cancelling it).
func withDeadline<T: Sendable>(
    _ timeout: TimeAmount, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
            throw DatabaseTimeout()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
