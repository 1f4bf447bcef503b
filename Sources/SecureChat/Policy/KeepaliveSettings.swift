import NIOCore

/// How the server detects dead peers and sends small writes: TCP keepalive, TCP_USER_TIMEOUT and TCP_NODELAY.
///
/// A client that vanishes (unplugged, NAT entry expired) never sends a FIN; without keepalive its connection,
/// descriptor and outbox would stay forever. The defaults probe after 60 s of silence, every 15 s, 4 times, and
/// TCP_USER_TIMEOUT drops a connection whose sent data stays unacknowledged for as long (120 s), which keepalive
/// alone does not cover once data is in flight.
public struct KeepaliveSettings: Sendable, Equatable {
    /// Silence before the first probe (TCP_KEEPIDLE), whole seconds, 1...32767.
    public var idle: TimeAmount
    /// Time between probes (TCP_KEEPINTVL), whole seconds, 1...32767.
    public var interval: TimeAmount
    /// Unanswered probes before the connection is dropped (TCP_KEEPCNT), 1...127.
    public var probeCount: Int
    /// TCP_USER_TIMEOUT; `nil` means `idle + interval * probeCount`, `.zero` leaves the system default.
    public var userTimeout: TimeAmount?
    /// TCP_NODELAY: chat lines are small and latency matters more than packet count.
    public var noDelay: Bool

    /// The project defaults: idle 60 s, interval 15 s, 4 probes, user timeout 120 s, no delay.
    public static let `default` = KeepaliveSettings()

    public init(
        idle: TimeAmount = .seconds(60),
        interval: TimeAmount = .seconds(15),
        probeCount: Int = 4,
        userTimeout: TimeAmount? = nil,
        noDelay: Bool = true
    ) {
        self.idle = idle
        self.interval = interval
        self.probeCount = probeCount
        self.userTimeout = userTimeout
        self.noDelay = noDelay
    }

    /// The user timeout actually applied: the explicit one, or the time keepalive needs to give up.
    public var effectiveUserTimeout: TimeAmount {
        self.userTimeout ?? (self.idle + self.interval * Int64(self.probeCount))
    }
}
