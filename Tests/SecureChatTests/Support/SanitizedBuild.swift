import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Whether this test process was built with `swift test --sanitize=address` or `--sanitize=thread`, found at run
/// time: each sanitizer links its runtime into the test executable and exports its init function from it
/// (`__asan_init`, `__tsan_init`), and a normal build has neither. Swift has no `#if` for sanitizers.
///
/// The one use: time budgets a test gives a client (a login timeout that a second client must log in within, a
/// handshake to finish) are scaled by ``timeFactor`` in a sanitized build, which runs 2-15 times slower. In a
/// normal build the factor is 1, so the tests assert exactly what they assert without this. Nothing is timed.
enum SanitizedBuild {
    enum Sanitizer: String, Sendable {
        case address
        case thread
    }

    /// The sanitizer this process was built with, or nil for a normal build.
    static let sanitizer: Sanitizer? = {
        if isExported("__asan_init") { return .address }
        if isExported("__tsan_init") { return .thread }
        return nil
    }()

    /// 1 in a normal build, 5 in a sanitized one.
    static let timeFactor: Int64 = sanitizer == nil ? 1 : 5

    /// `budget` in a normal build, `budget` × ``timeFactor`` in a sanitized one.
    static func scaled(_ budget: TimeAmount) -> TimeAmount {
        .nanoseconds(budget.nanoseconds * timeFactor)
    }

    /// `budget` in a normal build, `budget` × ``timeFactor`` in a sanitized one.
    static func scaled(_ budget: Duration) -> Duration {
        budget * timeFactor
    }

    /// The environment for a child process whose RSS a test bounds (a `securechatd` built beside the tests, so
    /// built with the same sanitizer). Under AddressSanitizer two of its checks are turned off in that child, because
    /// each makes RSS grow with what the process did rather than with what it holds:
    /// - the quarantine, which keeps up to 256 MiB of freed blocks unreusable to catch use-after-free;
    /// - use-after-return detection, which gives every thread a "fake stack" on the heap whose pages stay resident
    ///   once touched (measured: the slow-reader flood of `ResourceBoundsTests` grew the daemon by 19.7 MiB with the
    ///   quarantine off and this on, 2.1 MiB with both off, 0.45 MiB in a normal build; bound 8 MiB).
    /// Overflow checks and LeakSanitizer stay on. Only these children run so; every other process keeps ASan's
    /// defaults. Empty (the inherited environment unchanged) in a normal or ThreadSanitizer build.
    static var memoryMeasuredChildEnvironment: [String: String] {
        guard sanitizer == .address else { return [:] }
        let inherited = ProcessInfo.processInfo.environment["ASAN_OPTIONS"].map { $0 + ":" } ?? ""
        let options = "quarantine_size_mb=0:thread_local_quarantine_size_kb=0:detect_stack_use_after_return=0"
        return ["ASAN_OPTIONS": inherited + options]
    }

    /// The bytes this process's program has allocated and not freed, as the sanitizer's allocator counts them
    /// (`__sanitizer_get_current_allocated_bytes`: no quarantine, no redzones, no shadow); nil in a normal build.
    static func liveHeapBytes() -> Int? {
        guard sanitizer != nil,
            let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__sanitizer_get_current_allocated_bytes")
        else { return nil }
        typealias Allocated = @convention(c) () -> Int
        return unsafeBitCast(symbol, to: Allocated.self)()
    }

    /// Whether the running process (executable or a loaded library) exports `symbol`.
    static func isExported(_ symbol: String) -> Bool {
        // RTLD_DEFAULT is the null handle on glibc.
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), symbol) != nil
    }
}
