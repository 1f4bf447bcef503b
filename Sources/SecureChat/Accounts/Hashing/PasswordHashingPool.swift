import NIOCore
import NIOPosix
import Synchronization

/// The threads password hashes run on: never an event loop, and never more work than a bound.
///
/// An argon2id hash takes tens of milliseconds of CPU and 19 MiB. On an event loop it would stall every
/// connection of that loop; unbounded, a reconnect storm after a restart would queue thousands of them and
/// starve the chat (Ergo lowered its bcrypt cost for this, ergo #1497). So hashes run on half the cores, at
/// most `queueCapacity` wait, and past that `run` refuses at once: the user is told the server is busy.
public final class PasswordHashingPool: Sendable {
    public let threads: Int
    public let queueCapacity: Int
    private let pool: NIOThreadPool
    /// Jobs running or waiting.
    private let outstanding = Atomic<Int>(0)

    /// Half the cores by default (at least one), so hashing can never take the whole machine from the chat.
    public static var defaultThreads: Int { max(1, System.coreCount / 2) }
    public static let defaultQueueCapacity = 64

    public init(threads: Int = defaultThreads, queueCapacity: Int = defaultQueueCapacity) {
        precondition(threads >= 1 && queueCapacity >= 0)
        self.threads = threads
        self.queueCapacity = queueCapacity
        self.pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Runs `body` on a pool thread and returns its result, or nil at once if `threads + queueCapacity` jobs
    /// are outstanding already (or the pool is shut down).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T? {
        let limit = threads + queueCapacity
        let admitted = outstanding.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= limit
        defer { outstanding.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
        guard admitted else { return nil }
        do {
            return try await pool.runIfActive(body)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            return nil
        }
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
