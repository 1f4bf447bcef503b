import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// A secret kept in a file (`--cluster-url-file`): readable by its owner only, small, read whole.
///
/// Errors name the flag and the path, never the contents.
enum SecretFile {
    /// More than any URL or password needs; a bigger file is a wrong path, not a secret.
    static let maximumBytes = 64 * 1024

    /// The file's text without its trailing newline; throws unless the file is a regular file that neither group
    /// nor others may read.
    static func read(_ path: String, flag: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ValidationError("--\(flag) \(path): cannot be read (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw ValidationError("--\(flag) \(path): not a regular file")
        }
        guard status.st_mode & 0o077 == 0 else {
            let mode = String(status.st_mode & 0o777, radix: 8)
            throw ValidationError(
                "--\(flag) \(path): readable by group or others (mode \(mode)); make it 0600 (chmod go= \(path))")
        }
        guard status.st_size <= maximumBytes else {
            throw ValidationError("--\(flag) \(path): larger than \(maximumBytes) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw ValidationError("--\(flag) \(path): cannot be read") }
            if got == 0 { break }
            count += got
        }
        guard count <= maximumBytes else {
            throw ValidationError("--\(flag) \(path): larger than \(maximumBytes) bytes")
        }
        let text = String(decoding: bytes[..<count], as: UTF8.self)
        return String(text.reversed().drop { $0.isNewline || $0 == " " }.reversed())
    }
}
