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
    /// What the server speaks: securechatd's line protocol, or IRC.
    public var proto: BenchProtocol

    public init(host: String, port: Int, tls: TLSContext?, proto: BenchProtocol = .line) {
        self.host = host
        self.port = port
        self.tls = tls
        self.proto = proto
    }
}

/// A logged-in (or logging-in) benchmark client (``BenchClientHandler``), usable from any thread.
public typealias BenchConnection = ClientConnection<BenchClientHandler>

extension BenchConnection {
    public func ping() -> EventLoopFuture<Void> {
        onLoop { $0.ping() }
    }

    /// Marks the close as expected and closes; never fails (a connection already closed is closed).
    public func close() -> EventLoopFuture<Void> {
        closeAsExpected().recover { _ in }
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

    /// Connects client number `index` and starts its login as `name`, in the target's protocol.
    public func connect(
        index: Int,
        name: String,
        target: BenchTarget,
        configure: @escaping @Sendable (BenchClientHandler) -> Void = { _ in }
    ) -> EventLoopFuture<BenchConnection> {
        let proto = target.proto
        return connectClient(
            index: index, name: name, target: target, connectTimeout: .seconds(30), receiveBuffer: nil,
            tlsShutdownTimeout: .seconds(5)
        ) { handler in
            handler.dialect = proto
            configure(handler)
        }
    }

    /// Connects client number `index` with a new `Handler` that starts its login as `name`: what every kind
    /// of client shares. The connection is bound to its source address, has Nagle off, and on a TLS target
    /// speaks TLS below the handler. `configure` sees the handler before it joins the pipeline.
    ///
    /// - Parameters:
    ///   - connectTimeout: how long the TCP connect may take before the connection fails.
    ///   - receiveBuffer: SO_RCVBUF, set before connecting so the window is small from the start; `nil`
    ///     keeps the kernel's default.
    ///   - tlsShutdownTimeout: how long a close waits for the server's close_notify.
    func connectClient<Handler: LoginClientHandler>(
        index: Int,
        name: String,
        target: BenchTarget,
        connectTimeout: TimeAmount,
        receiveBuffer: Int?,
        tlsShutdownTimeout: TimeAmount,
        configure: @escaping @Sendable (Handler) -> Void
    ) -> EventLoopFuture<ClientConnection<Handler>> {
        let shards = self.shards
        let tls = target.tls
        let host = target.host
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        bootstrap = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    let handler = try OpenSSLHandler(
                        context: tls, mode: .client(serverHostname: host), shutdownTimeout: tlsShutdownTimeout)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
                let promise = channel.eventLoop.makePromise(of: Void.self)
                let handler = Handler(name: name, shard: shards.shard(for: channel.eventLoop), loginPromise: promise)
                configure(handler)
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }
        bootstrap = bootstrap.bindingSource(index, of: sourceAddresses)
        return bootstrap.connect(host: target.host, port: target.port).flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: Handler.self)
            return ClientConnection(
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
