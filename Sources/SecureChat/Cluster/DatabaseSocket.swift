import Logging
import NIOCore
import NIOPosix
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// TCP keepalive for a database socket, derived from the node timeout: probes start after a quarter of it,
/// and `TCP_USER_TIMEOUT` cuts the connection when sent data or probes stay unacknowledged for half of it.
struct DatabaseKeepalive: Sendable, Equatable {
    /// Seconds of silence before the first probe (`TCP_KEEPIDLE`), at least 1.
    let idleSeconds: Int
    /// Seconds between probes (`TCP_KEEPINTVL`).
    let intervalSeconds: Int
    /// Unanswered probes before the kernel gives up (`TCP_KEEPCNT`).
    let probes: Int
    /// Milliseconds data or probes may stay unacknowledged (`TCP_USER_TIMEOUT`).
    let userTimeoutMilliseconds: Int

    init(nodeTimeout: TimeAmount) {
        // Bounded so that every value fits the kernel's 32-bit option, whatever the node timeout.
        let milliseconds = Int(max(1, min(nodeTimeout.nanoseconds / 1_000_000, Int64(Int32.max))))
        idleSeconds = max(1, milliseconds / 4_000)
        intervalSeconds = 1
        probes = 3
        userTimeoutMilliseconds = max(1_000, milliseconds / 2)
    }
}

/// Opens the TCP connections to the cluster's database. postgres-nio's own bootstrap takes no socket options,
/// so the socket is connected here, with keepalive and `TCP_USER_TIMEOUT` set, and handed to postgres-nio as an
/// established channel (its documented way to bring one's own transport).
enum DatabaseSocket {
    /// A PostgreSQL connection over a socket with `keepalive` set, as `configuration` describes (host, port,
    /// TLS, user, database).
    static func connect(
        on eventLoop: any EventLoop,
        configuration: PostgresConnection.Configuration,
        keepalive: DatabaseKeepalive,
        id: Int,
        logger: Logger
    ) async throws -> PostgresConnection {
        guard let host = configuration.host, let port = configuration.port else {
            // Not TCP (a Unix socket): nothing to keep alive.
            return try await PostgresConnection.connect(
                on: eventLoop, configuration: configuration, id: id, logger: logger)
        }
        let channel = try await openChannel(
            host: host, port: port, keepalive: keepalive, connectTimeout: configuration.options.connectTimeout,
            on: eventLoop)
        var established = PostgresConnection.Configuration(
            establishedChannel: channel, tls: configuration.tls, username: configuration.username,
            password: configuration.password, database: configuration.database)
        established.options = configuration.options
        // postgres-nio sends a server name for TLS only for host names it connected to itself; keep that, and
        // as it does, never send an IP address (not valid in SNI).
        if established.options.tlsServerName == nil, (try? SocketAddress(ipAddress: host, port: port)) == nil {
            established.options.tlsServerName = host
        }
        do {
            return try await PostgresConnection.connect(
                on: eventLoop, configuration: established, id: id, logger: logger)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// A connected TCP channel to `host`:`port` with TCP keepalive and `TCP_USER_TIMEOUT` set.
    static func openChannel(
        host: String, port: Int, keepalive: DatabaseKeepalive, connectTimeout: TimeAmount, on eventLoop: any EventLoop
    ) async throws -> any Channel {
        return try await ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.init(rawValue: CInt(TCP_KEEPIDLE))), value: keepalive.idleSeconds)
            .channelOption(.tcpOption(.init(rawValue: CInt(TCP_KEEPINTVL))), value: keepalive.intervalSeconds)
            .channelOption(.tcpOption(.init(rawValue: CInt(TCP_KEEPCNT))), value: keepalive.probes)
            .channelOption(
                .tcpOption(.init(rawValue: CInt(TCP_USER_TIMEOUT))), value: keepalive.userTimeoutMilliseconds
            )
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port).get()
    }
}
