import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process's memory as Linux reports it in /proc/PID/status: this process's (`pid` nil) or a child's, such
/// as a `securechatd` started by the test, whose figures no other test running in parallel can disturb.
enum MemoryProbe {
    /// Resident set size (VmRSS), in bytes.
    static func residentBytes(pid: Int32? = nil) throws -> Int {
        try field("VmRSS", pid: pid)
    }

    /// Peak resident set size since start or since the last `resetPeak()` (VmHWM), in bytes.
    static func peakResidentBytes(pid: Int32? = nil) throws -> Int {
        try field("VmHWM", pid: pid)
    }

    /// Gives freed heap pages back to the kernel, so RSS reflects memory still held rather than malloc's cache.
    static func trim() {
        #if canImport(Glibc)
            // malloc_trim is glibc-only and not in the Glibc module; look it up (RTLD_DEFAULT is a null handle).
            typealias Trim = @convention(c) (Int) -> Int32
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
                _ = unsafeBitCast(symbol, to: Trim.self)(0)
            }
        #endif
    }

    /// Resets VmHWM to the current RSS (Linux: write "5" to /proc/self/clear_refs). Returns false if refused.
    @discardableResult
    static func resetPeak(pid: Int32? = nil) -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/\(pid.map(String.init) ?? "self")/clear_refs") else {
            return false
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }

    struct Missing: Error, CustomStringConvertible {
        let field: String
        var description: String { "/proc/self/status has no \(field) line" }
    }

    private static func field(_ name: String, pid: Int32?) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid.map(String.init) ?? "self")/status", encoding: .utf8)
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.dropFirst(name.count + 1).filter(\.isNumber)
            if let kilobytes = Int(digits) { return kilobytes * 1024 }
        }
        throw Missing(field: name)
    }

    static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.2f MiB", Double(bytes) / 1_048_576)
    }
}
