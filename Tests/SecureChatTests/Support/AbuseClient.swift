import Foundation
import NIOCore
import NIOPosix
import SecureChat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The abuse tests' client: `TestClient`, which can pick its source address and shrink its receive buffer.
typealias AbuseClient = TestClient

/// The kernel's view of one socket's keepalive options, read with getsockopt.
struct KeepaliveOptions: Equatable, CustomStringConvertible {
    var keepalive: Int32
    var idleSeconds: Int32
    var intervalSeconds: Int32
    var probes: Int32
    var userTimeoutMillis: Int32
    var noDelay: Int32

    var description: String {
        "keepalive=\(keepalive) idle=\(idleSeconds)s interval=\(intervalSeconds)s probes=\(probes)"
            + " user_timeout=\(userTimeoutMillis)ms nodelay=\(noDelay)"
    }
}

/// Finds, among this process's descriptors, the TCP socket whose local port is `localPort` and whose peer port is
/// `peerPort`: with the server in-process, that is the server's end of a test client's connection. Linux only
/// (reads /proc/self/fd).
enum AcceptedSocket {
    static func descriptor(localPort: Int, peerPort: Int) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        for entry in entries {
            guard let fd = Int32(entry) else { continue }
            guard port(of: fd, peer: false) == localPort, port(of: fd, peer: true) == peerPort else { continue }
            return fd
        }
        return nil
    }

    private static func port(of fd: Int32, peer: Bool) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
            }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
    }

    #if os(Linux)
        static func keepaliveOptions(of fd: Int32) -> KeepaliveOptions? {
            func read(_ level: Int32, _ name: Int32) -> Int32? {
                var value: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                return getsockopt(fd, level, name, &value, &length) == 0 ? value : nil
            }
            let tcp = Int32(IPPROTO_TCP)
            guard let keepalive = read(SOL_SOCKET, SO_KEEPALIVE),
                let idle = read(tcp, TCP_KEEPIDLE),
                let interval = read(tcp, TCP_KEEPINTVL),
                let probes = read(tcp, TCP_KEEPCNT),
                let userTimeout = read(tcp, TCP_USER_TIMEOUT),
                let noDelay = read(tcp, TCP_NODELAY)
            else { return nil }
            return KeepaliveOptions(
                keepalive: keepalive == 0 ? 0 : 1, idleSeconds: idle, intervalSeconds: interval, probes: probes,
                userTimeoutMillis: userTimeout, noDelay: noDelay == 0 ? 0 : 1
            )
        }
    #endif
}
