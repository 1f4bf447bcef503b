import NIOConcurrencyHelpers

/// Counts of the events an operator watches: refusals, evictions, handshake failures. Updated from any event
/// loop or task; none of these is on the per-message path, so one short lock is cheap enough.
public final class ServerCounters: Sendable {
    /// Every event that is counted.
    public enum Event: Int, CaseIterable, Sendable, CustomStringConvertible {
        case connectionAccepted
        case refusedServerFull
        case refusedPerAddress
        case loginTimeout
        case writeTimeout
        case outboxOverflow
        case idleTimeout
        case rateLimitedLine
        case floodDisconnect
        case tlsHandshakeCompleted
        case tlsHandshakeFailed
        case tlsOnPlaintextPort

        public var description: String {
            switch self {
            case .connectionAccepted: return "connections_accepted"
            case .refusedServerFull: return "refused_server_full"
            case .refusedPerAddress: return "refused_per_address"
            case .loginTimeout: return "login_timeouts"
            case .writeTimeout: return "write_timeouts"
            case .outboxOverflow: return "outbox_overflows"
            case .idleTimeout: return "idle_timeouts"
            case .rateLimitedLine: return "rate_limited_lines"
            case .floodDisconnect: return "flood_disconnects"
            case .tlsHandshakeCompleted: return "tls_handshakes"
            case .tlsHandshakeFailed: return "tls_handshake_failures"
            case .tlsOnPlaintextPort: return "tls_on_plaintext_port"
            }
        }
    }

    private let values = NIOLockedValueBox([Int](repeating: 0, count: Event.allCases.count))

    public init() {}

    public func increment(_ event: Event) {
        values.withLockedValue { $0[event.rawValue] += 1 }
    }

    public subscript(_ event: Event) -> Int {
        values.withLockedValue { $0[event.rawValue] }
    }
}
