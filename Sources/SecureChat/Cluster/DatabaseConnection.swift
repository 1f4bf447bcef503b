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
    /// The connect in flight, if any: every caller that finds no connection awaits this one, so a node never
    /// holds more than one connection here, however many callers arrive while the database is restarting.
    private var opening: (attempt: Int, task: Task<PostgresConnection, any Error>)?
    /// Counts connects begun; a connect finishing after a drop no longer matches `opening` and is closed.
    private var attempts = 0

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

    /// The open connection, or a new one opened within `timeout`. Opening is single-flight: callers that
    /// arrive while a connect is under way wait for that one (each for at most its own `timeout`) instead of
    /// opening another, which would leak when it replaced the first.
    func open(timeout: TimeAmount = .seconds(5)) async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let task = opening?.task ?? beginOpening()
        return try await withDeadline(timeout) { try await task.value }
    }

    /// Starts the one connect, bounded by the longest wait `open` allows (5 s) whoever waits for it.
    private func beginOpening() -> Task<PostgresConnection, any Error> {
        attempts &+= 1
        let attempt = attempts
        let task = Task { [configuration, keepalive, eventLoop, id, logger] in
            do {
                let fresh = try await withDeadline(.seconds(5), discardingLate: { try? await $0.close() }) {
                    try await DatabaseSocket.connect(
                        on: eventLoop, configuration: configuration, keepalive: keepalive, id: id, logger: logger)
                }
                try await self.adopt(fresh, attempt: attempt)
                return fresh
            } catch {
                self.forget(attempt: attempt)
                throw error
            }
        }
        opening = (attempt, task)
        return task
    }

    /// Keeps the connection a connect produced, unless the connect was abandoned meanwhile (a drop or shutdown):
    /// then it is closed, never left open unused.
    private func adopt(_ fresh: PostgresConnection, attempt: Int) async throws {
        guard opening?.attempt == attempt else {
            try? await fresh.close()
            throw DatabaseConnectionDropped()
        }
        opening = nil
        connection = fresh
    }

    private func forget(attempt: Int) {
        if opening?.attempt == attempt { opening = nil }
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
        if failed == nil, let opening {
            // At shutdown a connect under way is abandoned too; if it still opens, `adopt` closes it.
            self.opening = nil
            opening.task.cancel()
        }
        guard let connection, failed == nil || failed === connection else { return }
        self.connection = nil
        try? await connection.close()
    }
}

/// Why a connect under way was abandoned: the connection was closed (at shutdown) while it opened.
struct DatabaseConnectionDropped: Error, CustomStringConvertible {
    var description: String { "the cluster database connection was closed while it opened" }
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
