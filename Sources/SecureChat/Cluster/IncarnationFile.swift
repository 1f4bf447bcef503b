import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// How a node restarted on the same machine proves that it is the node that crashed, and takes its name over
/// at once instead of waiting out the old heartbeat (README.md, "Running several nodes").
///
/// The file (by default `securechat-NODE.incarnation` in the working directory, `--incarnation-file`) holds
/// the node's name and its registered incarnation, and a running node holds an exclusive `flock` on it. The
/// kernel drops that lock when the process ends, however it ends, so a process that gets the lock knows that
/// the incarnation written there belongs to a process that is gone; it passes it to `securechat_register`,
/// which lets it take over the name when that incarnation is still the registered one. A second process under
/// the same name finds the lock held and registers as any other node: refused while the first heartbeats.
final class IncarnationFile: Sendable {
    let path: String
    /// The open, locked file; nil before the first `previousIncarnation` and after `release`, and when the
    /// lock is held elsewhere or the file cannot be opened.
    private let descriptor = NIOLockedValueBox<Int32?>(nil)
    private let tried = NIOLockedValueBox(false)

    init(path: String) {
        self.path = path
    }

    /// The default path for `nodeName`: in the working directory, with anything but letters, digits, `.`, `_`
    /// and `-` in the name replaced by `_`.
    static func defaultPath(nodeName: String) -> String {
        let safe = String(
            nodeName.unicodeScalars.prefix(100).map { scalar -> Character in
                let allowed = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
                return allowed || scalar == "." || scalar == "_" || scalar == "-" ? Character(scalar) : "_"
            })
        return "securechat-\(safe).incarnation"
    }

    /// Takes the lock (on the first call) and returns the incarnation the file names for `nodeName`, if any:
    /// that of a process of this node that is gone. nil when the lock is held by a live process, the file is
    /// new, names another node, or cannot be read.
    func previousIncarnation(of nodeName: String) -> Int64? {
        lock()
        return descriptor.withLockedValue { descriptor -> Int64? in
            guard let descriptor else { return nil }
            var bytes = [UInt8](repeating: 0, count: 512)
            let count = pread(descriptor, &bytes, bytes.count, 0)
            guard count > 0 else { return nil }
            let lines = String(decoding: bytes.prefix(count), as: UTF8.self).split(separator: "\n")
            guard lines.count == 2, lines[0] == nodeName else { return nil }
            return Int64(lines[1])
        }
    }

    /// Writes `incarnation` as this node's, once registered (only while holding the lock).
    func record(_ incarnation: Int64, of nodeName: String) {
        descriptor.withLockedValue { descriptor in
            guard let descriptor else { return }
            let bytes = Array("\(nodeName)\n\(incarnation)\n".utf8)
            guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, bytes, bytes.count, 0) == bytes.count else {
                return
            }
            fsync(descriptor)
        }
    }

    /// At a clean stop (after the node deregistered): closes the file, which drops the lock.
    func release() {
        descriptor.withLockedValue { descriptor in
            if let file = descriptor { close(file) }
            descriptor = nil
        }
    }

    private func lock() {
        let first = tried.withLockedValue { tried -> Bool in
            defer { tried = true }
            return !tried
        }
        guard first else { return }
        let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard opened >= 0 else { return }
        guard flock(opened, LOCK_EX | LOCK_NB) == 0 else {
            close(opened)
            return
        }
        descriptor.withLockedValue { $0 = opened }
    }
}
