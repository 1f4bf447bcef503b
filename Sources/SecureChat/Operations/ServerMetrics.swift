import NIOConcurrencyHelpers
import Prometheus

/// The server's Prometheus metrics, in a registry of its own (so two servers in one process — tests — never mix
/// their figures).
///
/// Nothing on the message path touches Prometheus: the hub and the counters count as they go, and `refresh`
/// brings the exported metrics up to date when `/metrics` is scraped.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let counters: ServerCounters

    private let handshakeDuration: DurationHistogram
    /// What each monotonic counter showed at the last scrape, so the next one adds only the difference.
    private let exported = NIOLockedValueBox([String: Int]())

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), counters: ServerCounters) {
        self.registry = registry
        self.counters = counters
        self.handshakeDuration = registry.makeDurationHistogram(
            descriptor: Self.name(
                "tls_handshake_duration", unit: "seconds", "Time from accept to a completed TLS handshake."),
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
            ]
        )
    }

    /// A completed TLS handshake, timed from accept.
    func observeHandshake(_ duration: Duration) {
        handshakeDuration.record(duration)
    }

    /// The Prometheus text exposition, current as of `hub`.
    public func exposition(hub: HubStatistics) -> [UInt8] {
        refresh(hub: hub)
        return registry.emitToBuffer()
    }

    private func refresh(hub: HubStatistics) {
        registry.makeGauge(descriptor: Self.name("users", unit: "", "Users logged in.")).set(Int64(hub.usersOnline))
        registry.makeGauge(descriptor: Self.name("rooms", unit: "", "Rooms that exist.")).set(Int64(hub.rooms))
        let open: [(String, Int)] = [
            ("plaintext", counters.openPlaintextConnections.load(ordering: .relaxed)),
            ("tls", counters.openTLSConnections.load(ordering: .relaxed)),
        ]
        for (transport, count) in open {
            registry.makeGauge(
                descriptor: Self.name("connections", unit: "", "Connections open now."),
                labels: [("transport", transport)]
            ).set(Int64(count))
        }

        counter("logins", "Successful logins.", hub.logins)
        counter("messages", "Chat lines and direct messages accepted.", hub.messages)
        counter("deliveries", "Lines handed to a client's outbox (one per recipient).", hub.deliveries)
        counter("received_bytes", "Bytes of input lines read.", counters.bytesReceived.load(ordering: .relaxed))
        counter("sent_bytes", "Bytes of lines written to clients.", counters.bytesSent.load(ordering: .relaxed))
        counter("connections_accepted", "Connections admitted.", counters[.connectionAccepted])
        counter("rate_limited_lines", "Lines refused by the rate limit.", counters[.rateLimitedLine])
        counter("tls_handshakes", "Completed TLS handshakes.", counters[.tlsHandshakeCompleted])
        counter(
            "tls_on_plaintext_port", "TLS handshakes sent to the plaintext port.",
            counters[.tlsOnPlaintextPort])
        counter(
            "tls_unclean_shutdowns",
            "TLS connections that ended without close_notify (a last unfinished "
                + "line is dropped).", counters[.tlsUncleanShutdown])
        counter(
            "tls_peer_abuse_disconnects",
            "TLS peers disconnected for KeyUpdate or renegotiation floods "
                + "or for not reading TLS's own replies.", counters[.tlsPeerAbuse])
        let refusals: [(String, ServerCounters.Event)] = [
            ("server_full", .refusedServerFull), ("per_address", .refusedPerAddress),
            ("connect_rate", .refusedConnectRate), ("banned", .refusedBanned),
        ]
        for (reason, event) in refusals {
            counter(
                "refused_connections", "Connections refused by the limits.", counters[event],
                labels: [("reason", reason)])
        }
        let evictions: [(String, ServerCounters.Event)] = [
            ("outbox_overflow", .outboxOverflow), ("write_timeout", .writeTimeout), ("idle_timeout", .idleTimeout),
            ("login_timeout", .loginTimeout), ("flooding", .floodDisconnect),
        ]
        for (reason, event) in evictions {
            counter(
                "evictions", "Connections the server closed, by reason.", counters[event],
                labels: [("reason", reason)])
        }
        for (reason, count) in counters.handshakeFailures {
            counter(
                "tls_handshake_failures", "Failed TLS handshakes, by OpenSSL's reason.", count,
                labels: [("reason", reason)])
        }
    }

    private static func name(_ metric: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "securechat", metricName: metric, unitName: unit, helpText: help)
    }

    /// Exports a monotonic count as a Prometheus counter named `securechat_<name>_total`.
    private func counter(_ name: String, _ help: String, _ value: Int, labels: [(String, String)] = []) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = exported.withLockedValue { last -> Int in
            let delta = value - last[key, default: 0]
            if delta > 0 { last[key] = value }
            return delta
        }
        let descriptor = Self.name(name, unit: "total", help)
        let counter =
            labels.isEmpty
            ? registry.makeCounter(descriptor: descriptor)
            : registry.makeCounter(descriptor: descriptor, labels: labels)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }
}
