import Foundation
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A listening TCP socket of our own, and the thread that accepts from it. Each accepted socket is handed over as
/// its descriptor; the listener gives it to NIO (`ClientBootstrap.withConnectedSocket`), which serves it from
/// then on.
///
/// Why not NIO's `ServerBootstrap`: a channel it accepts does not say which socket it is, and `SocketWriter`, which
/// sends each flush to the socket itself, has to know. One blocking `accept4` per listener on a thread of its own
/// costs no event loop anything, and it is how the C servers we measure against accept too.
final class ListeningSocket: Sendable {
    /// Where it listens (the real port when port 0 was asked for).
    let address: SocketAddress
    private let descriptor: CInt
    private let state = NIOLockedValueBox(State.listening(waiters: []))

    private enum State {
        /// `waiters` wait for the end of the accepting thread (``waitUntilClosed()``).
        case listening(waiters: [CheckedContinuation<Void, Never>])
        /// `close()` shut the socket down; the accepting thread closes it on its way out.
        case closing(waiters: [CheckedContinuation<Void, Never>])
        case closed

        var isListening: Bool {
            if case .listening = self { return true }
            return false
        }
    }

    /// Binds `host`:`port` (resolved as NIO's `bind(host:port:)` does: the first address `getaddrinfo` gives),
    /// listens, and starts the thread that accepts until ``close()``. `accepted` gets each new socket (close on
    /// exec) and owns it. `onError` hears of an accept that failed for want of resources
    /// (descriptors, memory): the thread waits 100 ms and tries again, while the connection waits in the backlog.
    init(
        host: String, port: Int, backlog: CInt, threadName: String,
        onError: @escaping @Sendable (IOError) -> Void, accepted: @escaping @Sendable (CInt) -> Void
    ) throws {
        let wanted = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let family: CInt
        switch wanted {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: throw IOError(errnoCode: EAFNOSUPPORT, reason: "socket")
        }
        let descriptor = socket(family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        do {
            var one: CInt = 1
            guard setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size)) == 0
            else { throw IOError(errnoCode: errno, reason: "setsockopt") }
            try wanted.withSockAddr { address, length in
                guard Glibc.bind(descriptor, address, socklen_t(length)) == 0 else {
                    throw IOError(errnoCode: errno, reason: "bind(descriptor:ptr:bytes:)")
                }
            }
            guard listen(descriptor, backlog) == 0 else { throw IOError(errnoCode: errno, reason: "listen") }
            self.address = try Self.localAddress(of: descriptor)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        let thread = Thread { [self] in
            acceptUntilClosed(onError: onError, accepted)
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                defer { state = .closed }
                Glibc.close(descriptor)
                switch state {
                case .listening(let waiters), .closing(let waiters): return waiters
                case .closed: return []
                }
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = threadName
        thread.start()
    }

    private static func localAddress(of descriptor: CInt) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { throw IOError(errnoCode: errno, reason: "getsockname") }
        switch CInt(storage.ss_family) {
        case AF_INET:
            let address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            return SocketAddress(address, host: "")
        default:
            let address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            return SocketAddress(address, host: "")
        }
    }

    private func acceptUntilClosed(
        onError: @Sendable (IOError) -> Void, _ accepted: @Sendable (CInt) -> Void
    ) {
        while true {
            // `accept4` is not in Swift's Glibc module; NIO makes the socket non-blocking as it takes it over.
            let socket = Glibc.accept(descriptor, nil, nil)
            if socket >= 0 {
                _ = fcntl(socket, F_SETFD, FD_CLOEXEC)
                accepted(socket)
                continue
            }
            let code = errno
            switch code {
            case EINTR, ECONNABORTED, EPROTO, EAGAIN, EPERM:
                // The one connection is gone (or a firewall refused it); the socket is fine.
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                onError(IOError(errnoCode: code, reason: "accept"))
                usleep(100_000)
            default:
                // EINVAL once `close()` has shut the socket down; anything else means it is unusable.
                if state.withLockedValue({ $0.isListening }) {
                    onError(IOError(errnoCode: code, reason: "accept"))
                }
                return
            }
        }
    }

    /// Stops accepting: the accepting thread's `accept4` returns, and the thread closes the socket. Connections
    /// already accepted are not touched. Calling it again does nothing.
    func close() {
        state.withLockedValue { state in
            guard case .listening(let waiters) = state else { return }
            state = .closing(waiters: waiters)
            // Wakes the blocked `accept4` (Linux returns EINVAL from it on a listening socket shut down). Under the
            // lock, so it can never reach a descriptor that the thread has closed and the process reused.
            _ = shutdown(descriptor, CInt(SHUT_RDWR))
        }
    }

    /// Returns once the socket is closed and its accepting thread has ended (after ``close()``, or at once if that
    /// has happened). No connection is handed over after it returns.
    func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state -> Bool in
                switch state {
                case .listening(let waiters):
                    state = .listening(waiters: waiters + [continuation])
                case .closing(let waiters):
                    state = .closing(waiters: waiters + [continuation])
                case .closed:
                    return true
                }
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// ``close()``, then ``waitUntilClosed()``.
    func closeAndWait() async {
        close()
        await waitUntilClosed()
    }
}
