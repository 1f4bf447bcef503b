#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few file operations development certificates and the ban and account files need, on POSIX directly so the file
/// mode is set when the file is created (a key must never exist, even briefly, with a looser mode).
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
                throw WriteError(path: current, reason: "cannot create directory: " + self.lastError())
            }
        }
    }

    /// Throws if `path` is a symbolic link. A key file is written and read only at its own path: a link
    /// planted there (say `certs/server.key -> /etc/shadow`, or into a directory the attacker reads) must
    /// neither be followed to read a "key" from nor to write ours to.
    static func refuseSymbolicLink(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            return  // Absent: nothing to follow.
        }
        if status.st_mode & S_IFMT == S_IFLNK {
            throw WriteError(
                path: path,
                reason: "is a symbolic link; refusing to follow it for a private key (replace it with a regular "
                    + "file, or delete it to have a new key made)"
            )
        }
    }

    /// Replaces `path` with `bytes`, with permission bits `mode`, atomically: the bytes go to a new file
    /// next to it (created with `O_EXCL | O_NOFOLLOW`, so nothing that already exists is opened, link or
    /// not), are fsync-ed, and the file is renamed over `path`. A crash leaves the old file or the new one,
    /// never a truncated key; `rename` replaces a link at `path` rather than writing through it.
    static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        var random = SystemRandomNumberGenerator()
        let temporary = path + ".tmp-" + String(random.next() as UInt64, radix: 36)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw WriteError(path: temporary, reason: "cannot create: " + self.lastError())
        }
        var renamed = false
        defer {
            if !renamed {
                unlink(temporary)
            }
        }
        do {
            defer { close(fd) }
            // The umask may have narrowed `mode` (never widened it); set exactly what was asked.
            guard fchmod(fd, mode) == 0 else {
                throw WriteError(path: temporary, reason: "cannot set mode: " + self.lastError())
            }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR {
                        continue
                    }
                    throw WriteError(path: temporary, reason: "cannot write: " + self.lastError())
                }
                offset += written
            }
            guard fsync(fd) == 0 else {
                throw WriteError(path: temporary, reason: "cannot sync: " + self.lastError())
            }
        }
        guard rename(temporary, path) == 0 else {
            throw WriteError(path: path, reason: "cannot replace: " + self.lastError())
        }
        renamed = true
        self.syncDirectory(containing: path)
    }

    /// Makes a rename durable. Best effort: a file system that cannot sync a directory still has the file.
    private static func syncDirectory(containing path: String) {
        let directory = path.range(of: "/", options: .backwards).map { String(path[..<$0.lowerBound]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            return
        }
        _ = fsync(fd)
        close(fd)
    }

    /// Why a file could not be written, a directory made, or a path used for a key; `reason` is in plain words, for a
    /// log line or an error message. Its own type: the ban and account files are written here too, and a failed
    /// write of theirs is no TLS error (TLS/ reports it as `TLSError.fileUnreadable`, with the same path and reason).
    struct WriteError: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }

    /// Why a file could not be read; `reason` is in plain words, for a log line or an error message.
    struct ReadError: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }

    /// Reads at most `maximumBytes` of a regular file at `path`, checked with `fstat` on what was opened, so
    /// nothing can be swapped in between a check and the read. With `ownerOnly` (a private key), a symbolic
    /// link is not followed (`O_NOFOLLOW`), and the file must belong to this process's user and have no group
    /// or other permission bits: one planted by another user, or one others can read, is refused.
    static func readFile(_ path: String, maximumBytes: Int, ownerOnly: Bool = false) throws -> [UInt8] {
        // O_NONBLOCK: a FIFO planted at the path must not block the open; it is then refused as not regular.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (ownerOnly ? O_NOFOLLOW : 0))
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "is a symbolic link; refusing to follow it" : self.lastError()
            throw ReadError(path: path, reason: reason)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw ReadError(path: path, reason: "cannot stat: " + self.lastError())
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ReadError(path: path, reason: "is not a regular file")
        }
        if ownerOnly {
            guard status.st_uid == geteuid() else {
                throw ReadError(
                    path: path,
                    reason: "belongs to user \(status.st_uid), not to this server's user \(geteuid()); "
                        + "refusing to use a key someone else put there (delete it to have a new one made)"
                )
            }
            guard status.st_mode & 0o077 == 0 else {
                let mode = String(status.st_mode & 0o777, radix: 8)
                throw ReadError(
                    path: path,
                    reason: "has mode \(mode): group or others may use it; a private key must be 600 "
                        + "(chmod 600 it, or delete it to have a new one made)"
                )
            }
        }
        guard status.st_size <= maximumBytes else {
            throw ReadError(path: path, reason: "is larger than \(maximumBytes) bytes")
        }
        // Read to one byte past the cap: the file may have grown since fstat. The buffer starts at the size fstat
        // gave and grows only if the file did, so a small file never costs an allocation of the cap (a 16 MiB
        // zero-filled buffer per ban-file load made every SIGHUP, and the BanFile fuzz target, 14 times slower).
        let limit = maximumBytes + 1
        var bytes = [UInt8](repeating: 0, count: min(limit, Int(status.st_size) + 1))
        var count = 0
        while count < limit {
            if count == bytes.count { bytes += [UInt8](repeating: 0, count: min(limit - count, max(count, 4096))) }
            let got = bytes[count...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: "cannot read: " + self.lastError())
            }
            if got == 0 { break }
            count += got
        }
        guard count <= maximumBytes else {
            throw ReadError(path: path, reason: "is larger than \(maximumBytes) bytes")
        }
        return Array(bytes.prefix(count))
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
