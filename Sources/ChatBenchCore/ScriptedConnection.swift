import NIOCore
import NIOPosix
import SecureChat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A scripted client (``ScriptedClientHandler``), usable from any thread.
public typealias ScriptedConnection = ClientConnection<ScriptedClientHandler>

extension ScriptedConnection {
    /// Runs `body` on the connection's event loop with its handler, for a value.
    public func withHandler<T: Sendable>(_ body: @escaping @Sendable (ScriptedClientHandler) -> T) async throws -> T {
        let handler = self.handler
        return try await channel.eventLoop.submit { body(handler.value) }.get()
    }

    public func send(_ lines: [String]) async throws {
        try await withHandler { $0.send(lines) }
    }

    public func ping() async throws {
        try await onLoop { $0.ping() }.get()
    }

    public func report() async throws -> ScriptedClientReport {
        try await withHandler { $0.report }
    }

    /// Marks the close as expected and closes (FIN).
    public func close() async {
        _ = try? await closeAsExpected().get()
    }

    /// Marks the close as expected and resets the connection: SO_LINGER with a zero timeout makes close()
    /// send an RST instead of a FIN, and drop whatever the kernel still had to send.
    public func reset() async {
        let channel = self.channel
        _ = try? await onLoop { handler in
            handler.closingExpected = true
            guard let provider = channel as? any SocketOptionProvider else { return channel.close() }
            return provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).flatMap { channel.close() }
        }.get()
    }

    /// Sends `/quit REASON` and waits (up to `timeout`) for the server to close the connection; closes it
    /// itself if the server does not. Returns whether the server closed it.
    public func quit(_ reason: String, timeout: TimeAmount) async -> Bool {
        _ = try? await withHandler { handler in
            handler.closingExpected = true
            handler.send(["/quit \(reason)"])
        }
        let closedByServer = await waitForClose(timeout: timeout)
        if !closedByServer { await close() }
        return closedByServer
    }

    /// Waits up to `timeout` for the connection to close; returns whether it did.
    public func waitForClose(timeout: TimeAmount) async -> Bool {
        await ProbeTimer.waitForClose(channel, timeout: timeout)
    }
}

extension Connector {
    /// Connects client number `index` (its source address is the `index`-th, round robin) as a scripted
    /// client and starts its login as `name`.
    ///
    /// - Parameter receiveBuffer: a small SO_RCVBUF (set before connecting, so the window is small from the
    ///   start) makes a client that stops reading stall the server's socket quickly: a slow reader.
    public func connectScripted(
        index: Int,
        name: String,
        target: BenchTarget,
        receiveBuffer: Int? = nil,
        configure: @escaping @Sendable (ScriptedClientHandler) -> Void = { _ in }
    ) -> EventLoopFuture<ScriptedConnection> {
        connectClient(
            index: index, name: name, target: target, connectTimeout: .seconds(60), receiveBuffer: receiveBuffer,
            tlsShutdownTimeout: .seconds(2), configure: configure)
    }
}

/// Waiting with a deadline for things that complete on an event loop.
enum ProbeTimer {
    /// Waits up to `timeout` for `channel` to close; returns whether it did.
    static func waitForClose(_ channel: any Channel, timeout: TimeAmount) async -> Bool {
        await wait(for: channel.closeFuture, on: channel.eventLoop, timeout: timeout)
    }

    /// Waits up to `timeout` for `future`; returns whether it succeeded in time.
    static func wait(for future: EventLoopFuture<Void>, on loop: any EventLoop, timeout: TimeAmount) async -> Bool {
        let promise = loop.makePromise(of: Bool.self)
        let timer = loop.scheduleTask(in: timeout) { promise.succeed(false) }
        future.whenComplete { result in
            timer.cancel()
            switch result {
            case .success: promise.succeed(true)
            case .failure: promise.succeed(false)
            }
        }
        return (try? await promise.futureResult.get()) ?? false
    }
}
