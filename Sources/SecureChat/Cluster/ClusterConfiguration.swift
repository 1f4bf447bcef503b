import Foundation
import NIOCore
import NIOSSL
import PostgresNIO

/// How a node joins a cluster: the database, its own name, and how long silence means death.
public struct ClusterConfiguration: Sendable {
    /// `postgres://user:password@host:5432/database?sslmode=...`.
    public var url: String
    /// This node's name, unique in the cluster; `/stats` shows it.
    public var nodeName: String
    /// A node silent for longer than this is declared down by the others.
    public var nodeTimeout: TimeAmount = .seconds(10)
    /// Committed lines older than the history are kept this long more, so that a node whose link dropped for
    /// less than this catches up every line it missed.
    public var catchUpWindow: TimeAmount = .minutes(10)
    /// The file that lets this node, restarted on the same machine after a crash, take its name over at once
    /// (``IncarnationFile``); nil: `securechat-NODE.incarnation` in the working directory.
    public var incarnationFile: String?
    /// Most items (name claims, DMs, kicks) the work queue holds while the database is slow: past it, a login
    /// or a DM is refused at once, as while the link is down, rather than queued without bound.
    var workQueueLimit = 10_000

    public init(url: String, nodeName: String, nodeTimeout: TimeAmount = .seconds(10)) {
        self.url = url
        self.nodeName = nodeName
        self.nodeTimeout = nodeTimeout
    }

    /// Heartbeats come five times per timeout, so one lost heartbeat never looks like death.
    var heartbeatInterval: TimeAmount {
        .nanoseconds(max(nodeTimeout.nanoseconds / 5, TimeAmount.milliseconds(100).nanoseconds))
    }

    /// Longest a heartbeat may take: a beat that hangs on a silent connection fails after this, so a dead
    /// link is noticed within an interval and a deadline, under half the node timeout.
    var heartbeatDeadline: TimeAmount { .nanoseconds(nodeTimeout.nanoseconds / 4) }

    /// How long the listener may take to hear a probe after the heartbeat that sent it started: a listener
    /// silent for longer is deaf. As long as a heartbeat may take, so a deaf listener is noticed within an
    /// interval, this and a quarter interval (the watchdog looks four times per interval): half the node timeout.
    var probeGrace: TimeAmount { heartbeatDeadline }

    /// TCP keepalive on every database socket: a peer that vanished without a reset (a dead host, a NAT that
    /// forgot the flow) is cut by the kernel within half the node timeout even on a connection that only reads.
    var keepalive: DatabaseKeepalive { DatabaseKeepalive(nodeTimeout: nodeTimeout) }

    /// The connection settings the URL describes; a bad URL throws, saying what is wrong (never the password).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        try ClusterURL(url).connectionConfiguration()
    }
}

/// A `postgres://` URL, as libpq reads it: user, password, host, port, database, and `sslmode` with `sslrootcert`
/// (see ``ClusterTLSMode``).
struct ClusterURL {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String?
    let tls: ClusterTLSMode

    init(_ text: String) throws {
        guard let components = URLComponents(string: text),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else { throw ConfigurationError("--cluster must be a postgres:// URL (postgres://user:password@host/db)") }
        guard let host = components.host, !host.isEmpty else {
            throw ConfigurationError("--cluster URL has no host (postgres://user:password@host/db)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ConfigurationError("--cluster URL has no user (postgres://user:password@host/db)")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? nil : path
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        self.tls = try ClusterTLSMode(sslMode: query["sslmode"], rootCertificate: query["sslrootcert"])
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS
        switch (tls.encryption, tls.tlsConfiguration) {
        case (.ifOffered, let configuration?): mode = .prefer(try NIOSSLContext(configuration: configuration))
        case (.always, let configuration?): mode = .require(try NIOSSLContext(configuration: configuration))
        default: mode = .disable
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: mode)
    }
}
