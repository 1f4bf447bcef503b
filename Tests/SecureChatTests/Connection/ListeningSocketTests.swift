import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

/// The listener's own socket and accepting thread: binding, handing over each connection, and closing.
@Suite struct ListeningSocketTests {
    /// Accepted descriptors, as the accepting thread hands them over.
    private final class Accepted: Sendable {
        private let descriptors = NIOLockedValueBox<[CInt]>([])
        func add(_ descriptor: CInt) { descriptors.withLockedValue { $0.append(descriptor) } }
        var all: [CInt] { descriptors.withLockedValue { $0 } }
        func closeAll() { for descriptor in all { close(descriptor) } }
    }

    private static func listen(on host: String, port: Int = 0, into accepted: Accepted) throws -> ListeningSocket {
        try ListeningSocket(
            host: host, port: port, backlog: 16, threadName: "accept-test",
            onError: { error in Issue.record("accept failed: \(error)") }, accepted: accepted.add)
    }

    @Test("port 0 gets a real port, and each connection is handed over as the socket that is connected to its client")
    func handsOverEachConnection() async throws {
        let accepted = Accepted()
        defer { accepted.closeAll() }
        let listener = try Self.listen(on: "127.0.0.1", into: accepted)
        defer { listener.close() }
        let port = try #require(listener.address.port)
        #expect(port != 0)

        let clients = try (0..<3).map { _ in
            try RawSocket.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: port))
        }
        defer { for client in clients { close(client) } }
        try await eventually("three connections handed over") { accepted.all.count == 3 }
        let clientPorts = Set(try clients.map { try RawSocket.localAddress(of: $0).port })
        let peerPorts = Set(try accepted.all.map { try RawSocket.peerAddress(of: $0).port })
        #expect(peerPorts == clientPorts)
        // Close on exec: a child process the server might ever start gets no client's socket.
        for descriptor in accepted.all { #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0) }
    }

    @Test("IPv6 loopback works as IPv4 does")
    func listensOnIPv6() async throws {
        let accepted = Accepted()
        defer { accepted.closeAll() }
        let listener: ListeningSocket
        do {
            listener = try Self.listen(on: "::1", into: accepted)
        } catch {
            // A machine without IPv6 on loopback (some containers) cannot run this test.
            return
        }
        defer { listener.close() }
        #expect(listener.address.protocol == .inet6)
        let client = try RawSocket.connect(
            to: try SocketAddress(ipAddress: "::1", port: try #require(listener.address.port)))
        defer { close(client) }
        try await eventually("the connection handed over") { accepted.all.count == 1 }
    }

    @Test("close stops accepting: the accepting thread ends, the port refuses, a second close does nothing")
    func closeStopsAccepting() async throws {
        let accepted = Accepted()
        defer { accepted.closeAll() }
        let listener = try Self.listen(on: "127.0.0.1", into: accepted)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: try #require(listener.address.port))
        listener.close()
        await listener.waitUntilClosed()
        listener.close()
        await listener.waitUntilClosed()
        #expect(throws: RawSocket.Failure.self) { close(try RawSocket.connect(to: address)) }
        #expect(accepted.all.isEmpty)
    }

    @Test("a port that is taken cannot be bound twice, and the error says why")
    func aTakenPortThrows() async throws {
        let accepted = Accepted()
        let listener = try Self.listen(on: "127.0.0.1", into: accepted)
        defer { listener.close() }
        let port = try #require(listener.address.port)
        #expect {
            _ = try Self.listen(on: "127.0.0.1", port: port, into: accepted)
        } throws: { error in
            (error as? IOError)?.errnoCode == EADDRINUSE
        }
    }
}
