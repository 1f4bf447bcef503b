import NIOCore

/// What one connection's peer may make TLS do on its own before it is disconnected: the bookkeeping of
/// ``OpenSSLHandler``'s abuse limits, kept apart from the channel so the rules read in one place.
///
/// TLS answers some messages by itself, outside any outbox: a TLS 1.3 KeyUpdate(update_requested) obliges
/// a KeyUpdate of ours, a TLS 1.2 renegotiating ClientHello a no_renegotiation alert. Unchecked, a peer that
/// sends those and never reads makes the server queue answers without bound.
struct TLSAbuseGuard {
    struct Limits {
        /// KeyUpdates plus refused renegotiations a peer may send per second. Each costs a reply record;
        /// OpenSSL itself only asks for a KeyUpdate after gigabytes, so an honest peer never comes near.
        var peerRequestsPerSecond = 5
        /// TLS output not caused by an application write (KeyUpdate replies, alerts, session tickets) that
        /// may be waiting for the socket. It is not counted against any outbox, so it gets its own bound.
        var unsentControlBytes = 64 * 1024
    }

    var limits = Limits()
    /// Bytes of TLS's own output handed to the channel and not yet written to the socket.
    private(set) var unsentControlBytes = 0
    private var windowStart = NIODeadline.uptimeNanoseconds(0)
    private var requestsInWindow = 0

    /// Counts `count` new peer requests in a one-second window; an error once they exceed the limit.
    mutating func peerRequests(_ count: Int, at now: NIODeadline) -> TLSError? {
        guard count > 0 else {
            return nil
        }
        if now - self.windowStart >= .seconds(1) {
            self.windowStart = now
            self.requestsInWindow = 0
        }
        self.requestsInWindow += count
        guard self.requestsInWindow > self.limits.peerRequestsPerSecond else {
            return nil
        }
        return TLSError.peerAbuse(
            "\(self.requestsInWindow) KeyUpdate or renegotiation requests within one second "
                + "(at most \(self.limits.peerRequestsPerSecond) allowed)"
        )
    }

    /// `bytes` of TLS's own output are about to be written; an error (and nothing recorded) if that would
    /// leave more than the limit unsent.
    mutating func controlOutputQueued(_ bytes: Int) -> TLSError? {
        guard self.unsentControlBytes + bytes <= self.limits.unsentControlBytes else {
            return TLSError.peerAbuse(
                "over \(self.limits.unsentControlBytes) bytes of TLS replies left unread by the peer"
            )
        }
        self.unsentControlBytes += bytes
        return nil
    }

    /// The socket took (or the channel dropped) `bytes` recorded by ``controlOutputQueued(_:)``.
    mutating func controlOutputDone(_ bytes: Int) {
        self.unsentControlBytes -= bytes
    }
}
