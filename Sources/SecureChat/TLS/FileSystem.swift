#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations certificate generation needs, on POSIX directly so the file mode is set when
/// the file is created (a key must never exist, even briefly, with a looser mode).
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Creates `path` and missing parents.
    static func createDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            current += component + "/"
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw TLSError.fileUnreadable(path: current, reason: "cannot create directory: " + self.lastError())
            }
        }
    }

    /// Replaces `path` with `bytes`, with permission bits `mode`.
    static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw TLSError.fileUnreadable(path: path, reason: "cannot create: " + self.lastError())
        }
        defer { close(fd) }
        // open() leaves the mode of an existing file alone.
        guard fchmod(fd, mode) == 0 else {
            throw TLSError.fileUnreadable(path: path, reason: "cannot set mode: " + self.lastError())
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR {
                    continue
                }
                throw TLSError.fileUnreadable(path: path, reason: "cannot write: " + self.lastError())
            }
            offset += written
        }
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
