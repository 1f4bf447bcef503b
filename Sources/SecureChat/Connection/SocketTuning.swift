import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Applies `KeepaliveSettings` (and, for the server's clients, a fixed send buffer) to an accepted connection.
///
/// Use it from the child channel initializer (`childChannelInitializer { SocketTuning.apply(to: $0) }`) or on
/// any open TCP channel; options are set with setsockopt through NIO's socket-option channel option.
public enum SocketTuning {
    /// Sets every option in `settings` on `channel`, and `SO_SNDBUF` to `sendBuffer` bytes unless it is 0.
    ///
    /// On the channel's event loop the options are set synchronously and the returned future is already
    /// complete; elsewhere they are set one after the other on the loop.
    /// - Returns: a future that fails with the first setsockopt error (e.g. the channel is already closed).
    public static func apply(
        _ settings: KeepaliveSettings = .default,
        sendBuffer: Int = 0,
        to channel: any Channel
    ) -> EventLoopFuture<Void> {
        var options = self.socketOptions(for: settings)
        if sendBuffer > 0 {
            options.append((.init(level: .socket, name: .so_sndbuf), SocketOptionValue(clamping: sendBuffer)))
        }
        if channel.eventLoop.inEventLoop, let sync = channel.syncOptions {
            do {
                for (option, value) in options {
                    try sync.setOption(option, value: value)
                }
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        var future = channel.eventLoop.makeSucceededVoidFuture()
        for (option, value) in options {
            future = future.flatMap { channel.setOption(option, value: value) }
        }
        return future
    }

    /// Async form of `apply(_:sendBuffer:to:)`.
    public static func apply(
        _ settings: KeepaliveSettings = .default, sendBuffer: Int = 0, to channel: any Channel
    ) async throws {
        try await self.apply(settings, sendBuffer: sendBuffer, to: channel).get()
    }

    /// The socket options and values `settings` stands for, in the order they are applied.
    ///
    /// Out-of-range values are clamped to what Linux accepts rather than failing the connection.
    static func socketOptions(
        for settings: KeepaliveSettings
    ) -> [(ChannelOptions.Types.SocketOption, SocketOptionValue)] {
        var options: [(ChannelOptions.Types.SocketOption, SocketOptionValue)] = [
            (.init(level: .socket, name: .so_keepalive), 1),
            (.init(level: .tcp, name: .tcp_nodelay), settings.noDelay ? 1 : 0),
        ]
        let idle = self.wholeSeconds(settings.idle, in: 1...32767)
        let interval = self.wholeSeconds(settings.interval, in: 1...32767)
        let count = SocketOptionValue(min(max(settings.probeCount, 1), 127))
        #if os(Linux) || os(Android)
            options.append((self.tcpOption(TCP_KEEPIDLE), idle))
            options.append((self.tcpOption(TCP_KEEPINTVL), interval))
            options.append((self.tcpOption(TCP_KEEPCNT), count))
            let userTimeoutMillis = settings.effectiveUserTimeout.nanoseconds / 1_000_000
            if userTimeoutMillis > 0 {
                let clamped = SocketOptionValue(min(userTimeoutMillis, Int64(Int32.max)))
                options.append((self.tcpOption(TCP_USER_TIMEOUT), clamped))
            }
        #elseif canImport(Darwin)
            // Darwin calls the idle time TCP_KEEPALIVE and has no TCP_USER_TIMEOUT.
            options.append((self.tcpOption(TCP_KEEPALIVE), idle))
            options.append((self.tcpOption(TCP_KEEPINTVL), interval))
            options.append((self.tcpOption(TCP_KEEPCNT), count))
        #endif
        return options
    }

    private static func tcpOption(_ name: Int32) -> ChannelOptions.Types.SocketOption {
        .init(level: .tcp, name: NIOBSDSocket.Option(rawValue: name))
    }

    /// Rounds up so that a sub-second setting never becomes 0, which the kernel rejects.
    private static func wholeSeconds(_ amount: TimeAmount, in range: ClosedRange<Int64>) -> SocketOptionValue {
        let seconds = (amount.nanoseconds + 999_999_999) / 1_000_000_000
        return SocketOptionValue(min(max(seconds, range.lowerBound), range.upperBound))
    }
}
