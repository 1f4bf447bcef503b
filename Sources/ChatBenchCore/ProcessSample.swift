#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Resident memory and CPU time of a process, read from `/proc/PID/status` and `/proc/PID/stat`.
public struct ProcessSample: Sendable, Equatable {
    /// `VmRSS` in bytes.
    public var residentBytes: Int
    /// User plus system CPU time in seconds (`utime + stime` over the clock tick rate).
    public var cpuSeconds: Double

    public init(residentBytes: Int, cpuSeconds: Double) {
        self.residentBytes = residentBytes
        self.cpuSeconds = cpuSeconds
    }

    /// Samples process `pid` now; `nil` if it does not exist or its files cannot be read.
    public static func read(pid: Int32) -> ProcessSample? {
        guard let status = readFile("/proc/\(pid)/status"), let stat = readFile("/proc/\(pid)/stat"),
            let rss = residentBytes(status: status),
            let ticks = cpuTicks(stat: stat)
        else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(residentBytes: rss, cpuSeconds: Double(ticks) / (hertz > 0 ? hertz : 100))
    }

    /// `VmRSS:   1234 kB` → bytes.
    public static func residentBytes(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// `utime + stime` in clock ticks: fields 14 and 15 of `/proc/PID/stat`, counted after the `)` that ends
    /// the command name (which may itself contain spaces and parentheses).
    public static func cpuTicks(stat: String) -> Int? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 4096, file) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
