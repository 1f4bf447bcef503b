import NIOCore
import NIOPosix
import SecureChat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where the server is and how to speak to it.
public struct BenchTarget: Sendable {
    public var host: String
    public var port: Int
    /// TLS client context when this target is a TLS port; `nil` for plaintext.
    public var tls: TLSContext?

    public init(host: String, port: Int, tls: TLSContext?) {
        self.host = host
        self.port = port
        self.tls = tls
    }
}

/// A logged-in (or logging-in) benchmark client, usable from any thread.
public struct BenchConnection: Sendable {
    public let channel: any Channel
    public let handler: NIOLoopBound<BenchClientHandler>
    /// Completes at the welcome line.
    public let loggedIn: EventLoopFuture<Void>

    /// Runs `body` on the connection's event loop with its handler.
    public func onLoop<T: Sendable>(
        _ body: @escaping @Sendable (BenchClientHandler) throws -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let handler = self.handler
        return channel.eventLoop.flatSubmit {
            do { return try body(handler.value) } catch { return self.channel.eventLoop.makeFailedFuture(error) }
        }
    }

    public func ping() -> EventLoopFuture<Void> {
        onLoop { $0.ping() }
    }

    /// Marks the close as expected and closes.
    public func close() -> EventLoopFuture<Void> {
        let channel = self.channel
        return onLoop { handler in
            handler.closingExpected = true
            return channel.close()
        }.recover { _ in }
    }
}

/// Opens client connections: spreads them over source addresses (bound before connecting, with
/// `IP_BIND_ADDRESS_NO_PORT` so the port is picked per destination) and over the group's event loops.
public struct Connector: Sendable {
    public let group: any EventLoopGroup
    public let shards: ShardSet
    public let sourceAddresses: [SocketAddress]

    public init(group: any EventLoopGroup, shards: ShardSet, sourceAddresses: [String]) throws {
        self.group = group
        self.shards = shards
        self.sourceAddresses = try sourceAddresses.map { try SocketAddress(ipAddress: $0, port: 0) }
    }

    /// Connects client number `index` and starts its login as `name`.
    public func connect(
        index: Int,
        name: String,
        target: BenchTarget,
        configure: @escaping @Sendable (BenchClientHandler) -> Void = { _ in }
    ) -> EventLoopFuture<BenchConnection> {
        let shards = self.shards
        let tls = target.tls
        let host = target.host
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(30))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let handler = try OpenSSLHandler(context: tls, mode: .client(serverHostname: host))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    let promise = channel.eventLoop.makePromise(of: Void.self)
                    let handler = BenchClientHandler(
                        name: name, shard: shards.shard(for: channel.eventLoop), loginPromise: promise
                    )
                    configure(handler)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        bootstrap = bootstrap.bindingSource(index, of: sourceAddresses)
        return bootstrap.connect(host: target.host, port: target.port).flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: BenchClientHandler.self)
            return BenchConnection(
                channel: channel,
                handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
                loggedIn: handler.loginFuture
            )
        }
    }
}

/// `IP_BIND_ADDRESS_NO_PORT` (Linux 4.2+): defer the ephemeral port choice of a bound socket to connect().
enum IPBindAddressNoPort {
    static let option = SocketOptionName(24)
}
