import NIOConcurrencyHelpers
import Synchronization

/// Counts of the events an operator watches: refusals, evictions, handshake failures. Updated from any event
/// loop or task; none of these is on the per-message path, so one short lock is cheap enough.
public final class ServerCounters: Sendable {
    /// Every event that is counted.
    public enum Event: Int, CaseIterable, Sendable, CustomStringConvertible {
        case connectionAccepted
        case refusedServerFull
        case refusedPerAddress
        case refusedConnectRate
        case refusedBanned
        case loginTimeout
        case writeTimeout
        case outboxOverflow
        case idleTimeout
        case rateLimitedLine
        case floodDisconnect
        case tlsHandshakeCompleted
        case tlsHandshakeFailed
        case tlsOnPlaintextPort
        case tlsUncleanShutdown
        case tlsPeerAbuse

        public var description: String {
            switch self {
            case .connectionAccepted: return "connections_accepted"
            case .refusedServerFull: return "refused_server_full"
            case .refusedPerAddress: return "refused_per_address"
            case .refusedConnectRate: return "refused_connect_rate"
            case .refusedBanned: return "refused_banned"
            case .loginTimeout: return "login_timeouts"
            case .writeTimeout: return "write_timeouts"
            case .outboxOverflow: return "outbox_overflows"
            case .idleTimeout: return "idle_timeouts"
            case .rateLimitedLine: return "rate_limited_lines"
            case .floodDisconnect: return "flood_disconnects"
            case .tlsHandshakeCompleted: return "tls_handshakes"
            case .tlsHandshakeFailed: return "tls_handshake_failures"
            case .tlsOnPlaintextPort: return "tls_on_plaintext_port"
            case .tlsUncleanShutdown: return "tls_unclean_shutdowns"
            case .tlsPeerAbuse: return "tls_peer_abuse_disconnects"
            }
        }
    }

    private let values = NIOLockedValueBox([Int](repeating: 0, count: Event.allCases.count))
    private let handshakeFailureReasons = NIOLockedValueBox([String: Int]())

    /// Bytes of input lines read and of lines written; on the per-message path, so lock-free.
    public let bytesReceived = Atomic<Int>(0)
    public let bytesSent = Atomic<Int>(0)
    /// Connections open now, per listener.
    public let openPlaintextConnections = Atomic<Int>(0)
    public let openTLSConnections = Atomic<Int>(0)

    public init() {}

    /// Counts a connection opening (+1) or closing (-1) on a listener.
    func adjustOpenConnections(on listener: ListenerKind, by delta: Int) {
        switch listener {
        case .plaintext: openPlaintextConnections.add(delta, ordering: .relaxed)
        case .tls: openTLSConnections.add(delta, ordering: .relaxed)
        }
    }

    /// A failed TLS handshake, by OpenSSL's reason (a short, bounded set of strings).
    public func recordHandshakeFailure(reason: String) {
        increment(.tlsHandshakeFailed)
        handshakeFailureReasons.withLockedValue { reasons in
            // A hostile client must not grow this map: past 64 distinct reasons, the rest pool as "other".
            let key = reasons[reason] != nil || reasons.count < 64 ? reason : "other"
            reasons[key, default: 0] += 1
        }
    }

    public var handshakeFailures: [String: Int] {
        handshakeFailureReasons.withLockedValue { $0 }
    }

    public func increment(_ event: Event) {
        values.withLockedValue { $0[event.rawValue] += 1 }
    }

    public subscript(_ event: Event) -> Int {
        values.withLockedValue { $0[event.rawValue] }
    }
}
