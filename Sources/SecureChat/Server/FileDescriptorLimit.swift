#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit (RLIMIT_NOFILE), which bounds how many connections the server can hold.
public enum FileDescriptorLimit {
    /// Descriptors kept free for everything that is not a client: listeners, event-loop wakeups and timers,
    /// log files, certificate reloads.
    public static let reservedDescriptors = 64

    /// The current soft and hard limits; `Int.max` stands for "unlimited".
    public static func current() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0 else {
            return (soft: 0, hard: 0)
        }
        return (soft: self.int(limit.rlim_cur), hard: self.int(limit.rlim_max))
    }

    /// Raises the soft limit to the hard limit (the most an unprivileged process may do), once at start.
    ///
    /// The default soft limit (often 1024) would cap the server far below what one machine can hold. If the
    /// kernel refuses (e.g. an unlimited hard limit on macOS), the limits are left as they were.
    /// - Returns: the limits in force afterwards, as read back from the kernel.
    @discardableResult
    public static func raiseToHardLimit() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0 else {
            return (soft: 0, hard: 0)
        }
        if limit.rlim_cur != limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(resourceNoFile, &raised)
        }
        return self.current()
    }

    /// The default global connection cap for an open-file limit: the limit minus `reservedDescriptors`, or half
    /// the limit when it is too small for that headroom, and at least 1.
    public static func defaultMaxConnections(openFileLimit: Int) -> Int {
        if openFileLimit >= 2 * self.reservedDescriptors {
            return openFileLimit - self.reservedDescriptors
        }
        return max(openFileLimit / 2, 1)
    }

    private static func int(_ value: rlim_t) -> Int {
        value == self.infinity ? Int.max : Int(clamping: value)
    }

    #if canImport(Darwin)
        private static let infinity = RLIM_INFINITY
    #else
        // Glibc's RLIM_INFINITY is `((rlim_t) -1)`, which Swift cannot import; it is all bits set.
        private static let infinity = rlim_t.max
    #endif

    #if canImport(Glibc)
        // Glibc declares the resource as an enum; getrlimit takes its raw value.
        private static let resourceNoFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resourceNoFile = RLIMIT_NOFILE
    #endif
}
