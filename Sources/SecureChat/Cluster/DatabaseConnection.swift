import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// One connection to the cluster's database, opened when first needed and opened again after it fails.
///
/// A node keeps three: the listener's, the publisher's and one for everything else, so a batch of lines
/// never waits behind a login and a notification never waits behind either. Every use has a deadline: a
/// database that stops answering must turn into an error the user is told, not a hang.
actor DatabaseConnection {
    private let configuration: PostgresConnection.Configuration
    private let keepalive: DatabaseKeepalive
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let id: Int
    private var connection: PostgresConnection?

    init(
        configuration: PostgresConnection.Configuration, keepalive: DatabaseKeepalive, eventLoop: any EventLoop,
        id: Int, logger: Logger
    ) {
        self.configuration = configuration
        self.keepalive = keepalive
        self.eventLoop = eventLoop
        self.id = id
        self.logger = logger
    }

    /// The open connection, or a new one opened within `timeout`.
    func open(timeout: TimeAmount = .seconds(5)) async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let fresh = try await withDeadline(timeout, discardingLate: { try? await $0.close() }) {
            [configuration, keepalive, eventLoop, id, logger] in
            try await DatabaseSocket.connect(
                on: eventLoop, configuration: configuration, keepalive: keepalive, id: id, logger: logger)
        }
        connection = fresh
        return fresh
    }

    /// Runs `body` on the connection within `timeout` (opening it first, when needed, within the same bound and
    /// at most 5 s). When it fails or times out, the connection is closed, so that the next use starts
    /// from a fresh one.
    func run<T: Sendable>(
        timeout: TimeAmount = .seconds(5),
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await open(timeout: .nanoseconds(min(timeout.nanoseconds, 5_000_000_000)))
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

/// Runs `body`, or throws ``DatabaseTimeout`` once `timeout` has passed, whether or not `body` has ended: a
/// query on a connection that died silently does not always notice cancellation, and a task group would
/// wait for it. The caller then closes the connection, which ends the query.
func withDeadline<T: Sendable>(
    _ timeout: TimeAmount,
    discardingLate discard: (@Sendable (T) async -> Void)? = nil,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = DeadlineOutcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            outcome.start(continuation)
            let work = Task {
                do {
                    let value = try await body()
                    // Too late (timed out or cancelled): a value that must be released, such as a connection
                    // that must be closed, is handed to `discard`.
                    if !outcome.finish(.success(value)) { await discard?(value) }
                } catch {
                    outcome.finish(.failure(error))
                }
            }
            outcome.onCancel { work.cancel() }
            Task {
                try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                outcome.finish(.failure(DatabaseTimeout()))
                work.cancel()
            }
        }
    } onCancel: {
        outcome.cancel()
    }
}

/// The first of "done", "timed out" and "cancelled" wins; the others are ignored.
private final class DeadlineOutcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var cancelWork: (@Sendable () -> Void)?
        var cancelled = false
    }

    private let state = NIOLockedValueBox(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLockedValue { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Returns whether this result was the one that counted.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (won, continuation): (Bool, CheckedContinuation<T, any Error>?) = state.withLockedValue { state in
            guard state.early == nil else { return (false, nil) }
            state.early = result
            defer { state.continuation = nil }
            return (true, state.continuation)
        }
        continuation?.resume(with: result)
        return won
    }

    func onCancel(_ cancel: @escaping @Sendable () -> Void) {
        let now = state.withLockedValue { state -> Bool in
            state.cancelWork = cancel
            return state.cancelled
        }
        if now { cancel() }
    }

    func cancel() {
        let cancelWork = state.withLockedValue { state -> (@Sendable () -> Void)? in
            state.cancelled = true
            return state.cancelWork
        }
        cancelWork?()
        finish(.failure(CancellationError()))
    }
}
