import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Plain blocking sockets for tests that need the descriptors themselves (the listener's and the socket writer's
/// tests): loopback only.
enum RawSocket {
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: CInt
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// A connected socket to `address`, or the `connect` error (`ECONNREFUSED` when nothing listens).
    static func connect(to address: SocketAddress) throws -> CInt {
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, CInt(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(call: "socket", code: errno) }
        let result = address.withSockAddr { Glibc.connect(descriptor, $0, socklen_t($1)) }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw Failure(call: "connect", code: code)
        }
        return descriptor
    }

    /// A connected pair over 127.0.0.1 (server side, client side), made without NIO.
    static func loopbackPair() throws -> (server: CInt, client: CInt) {
        let listener = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(call: "socket", code: errno) }
        defer { close(listener) }
        let any = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        guard any.withSockAddr({ bind(listener, $0, socklen_t($1)) }) == 0, listen(listener, 1) == 0 else {
            throw Failure(call: "bind/listen", code: errno)
        }
        let client = try connect(to: try localAddress(of: listener))
        let server = accept(listener, nil, nil)
        guard server >= 0 else { throw Failure(call: "accept", code: errno) }
        return (server, client)
    }

    static func localAddress(of descriptor: CInt) throws -> SocketAddress {
        try address(of: descriptor, getsockname)
    }

    static func peerAddress(of descriptor: CInt) throws -> SocketAddress {
        try address(of: descriptor, getpeername)
    }

    private static func address(
        of descriptor: CInt, _ call: (CInt, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(descriptor, $0, &length) }
        }
        guard result == 0 else { throw Failure(call: "getsockname/getpeername", code: errno) }
        if CInt(storage.ss_family) == AF_INET6 {
            return SocketAddress(withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }, host: "")
        }
        return SocketAddress(withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }, host: "")
    }

    static func setBufferSize(_ option: CInt, of descriptor: CInt, to bytes: CInt) {
        var value = bytes
        _ = setsockopt(descriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<CInt>.size))
    }

    /// ``read(_:count:timeoutSeconds:pieceSize:)`` on a thread of its own, so that the test goes on meanwhile.
    static func readInBackground(_ descriptor: CInt, count: Int, pieceSize: Int) -> Task<[UInt8], Never> {
        Task {
            await withCheckedContinuation { continuation in
                Thread { continuation.resume(returning: read(descriptor, count: count, pieceSize: pieceSize)) }.start()
            }
        }
    }

    /// Reads until `count` bytes have come, the peer closes, or nothing comes for `timeoutSeconds`, at most
    /// `pieceSize` bytes per call.
    static func read(_ descriptor: CInt, count: Int, timeoutSeconds: Int = 10, pieceSize: Int = 65536) -> [UInt8] {
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: pieceSize)
        while received.count < count {
            let n = chunk.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, min($0.count, count - received.count), 0)
            }
            if n > 0 {
                received.append(contentsOf: chunk[0..<n])
            } else if n < 0, errno == EINTR {
                continue
            } else {
                break
            }
        }
        return received
    }
}
