import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A stall of the whole database: every process of the throwaway server stopped (SIGSTOP) and continued
/// (SIGCONT). Connections stay open and silent, as under a storage stall or a frozen virtual machine.
extension TestPostgres {
    /// The server's processes: the postmaster (from `postmaster.pid`) and its children.
    func processIDs() throws -> [pid_t] {
        let pidFile = try String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8)
        guard let first = pidFile.split(separator: "\n").first, let postmaster = pid_t(first) else {
            throw TestPostgresError("no postmaster pid in postmaster.pid")
        }
        var result = [postmaster]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "(name)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { result.append(pid) }
        }
        return result
    }

    /// Stops every process of the server.
    func freeze() throws {
        for pid in try processIDs() { kill(pid, SIGSTOP) }
    }

    /// Continues every process of the server.
    func thaw() throws {
        for pid in try processIDs().reversed() { kill(pid, SIGCONT) }
    }
}
