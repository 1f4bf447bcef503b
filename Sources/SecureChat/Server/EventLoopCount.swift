import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How many event-loop threads the server runs: one per CPU it may actually run on.
///
/// NIO's `System.coreCount` honours cgroup quotas and cpusets but not the process's CPU affinity, so a server
/// started under `taskset -c 0` (or pinned by systemd's `CPUAffinity=`) would run two or more event loops on one
/// CPU. They then take turns on it: every fan-out that wakes both loops costs context switches, and a line's
/// deliveries wait for the other loop's time slice (at light load on one CPU, 2 loops measured a median p99 of
/// 9.2 ms against 7.4 ms with 1; BENCHMARKS.md, issue 14).
public enum EventLoopCount {
    /// The smaller of NIO's core count and the CPUs in this process's affinity mask; at least 1.
    public static func automatic() -> Int {
        let cores = System.coreCount
        let allowed = readStatus().flatMap(allowedCPUs(status:))
        return max(1, min(cores, allowed ?? cores))
    }

    /// The number of CPUs in the `Cpus_allowed:` line of a `/proc/PID/status` text (a hexadecimal mask in
    /// comma-separated groups of 32 bits), or nil if there is no such line or it does not parse.
    public static func allowedCPUs(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else {
            return nil
        }
        let mask = line.dropFirst("Cpus_allowed:".count).trimmingCharacters(in: " \t")
        guard !mask.isEmpty else { return nil }
        var count = 0
        for group in mask.split(separator: ",", omittingEmptySubsequences: false) {
            guard !group.isEmpty, group.count <= 8, let bits = UInt32(group, radix: 16) else { return nil }
            count += bits.nonzeroBitCount
        }
        return count > 0 ? count : nil
    }

    /// `/proc/self/status` (about 1.5 kB), read until its end: procfs files report a size of 0, so a reader
    /// that trusts the size reads nothing. Nil where there is no procfs (macOS), and the core count stands.
    private static func readStatus() -> String? {
        let descriptor = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let capacity = 16 * 1024
        return String(unsafeUninitializedCapacity: capacity) { buffer in
            var filled = 0
            while filled < capacity {
                let count = read(descriptor, buffer.baseAddress! + filled, capacity - filled)
                guard count > 0 else { break }
                filled += count
            }
            return filled
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return text
    }
}
