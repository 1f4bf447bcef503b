internal import COpenSSL
import NIOConcurrencyHelpers
import NIOCore

/// A budget of full TLS handshakes per second for the whole server, all clients and listeners together, so
/// that a flood of new clients (from however many addresses) cannot take the CPU the connected users need.
///
/// A full handshake costs a signature and a key exchange; a resumed one (the clients the server already
/// knows, reconnecting after a network blip) skips the signature and is never charged. OpenSSL calls
/// ``charge(now:)`` through the certificate callback, which runs once it has decided that a handshake is
/// full (its session is not resumed) and before any of that handshake's expensive work. A refused handshake
/// ends with an `internal_error` alert and is counted in ``refusals``.
public final class TLSHandshakeBudget: Sendable {
    public let ratePerSecond: Double
    public let burst: Int
    private let bucket: NIOLockedValueBox<(limiter: RateLimiter, refusals: Int)>

    /// The default rate: about a quarter of one core at the half millisecond a full handshake costs
    /// (BENCHMARKS.md), leaving the rest for chat and resumed handshakes.
    public static let defaultRatePerSecond: Double = 500
    public static let defaultBurst = 1000

    /// `ratePerSecond` 0 charges nothing (no budget).
    public init(ratePerSecond: Double, burst: Int) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.bucket = NIOLockedValueBox((RateLimiter(ratePerSecond: ratePerSecond, burst: self.burst), 0))
    }

    public var isEnabled: Bool { ratePerSecond > 0 && ratePerSecond.isFinite }

    /// Takes one full handshake from the budget; false (and counted) when it is spent.
    func charge(now: NIODeadline) -> Bool {
        guard isEnabled else { return true }
        return bucket.withLockedValue { bucket in
            if bucket.limiter.admit(now: now) {
                return true
            }
            bucket.refusals += 1
            return false
        }
    }

    /// Full handshakes refused since start.
    public var refusals: Int {
        bucket.withLockedValue { $0.refusals }
    }

    /// Installs the budget on a server `SSL_CTX`. The context must keep `self` alive as long as it lives
    /// (``TLSContext`` holds it), since OpenSSL keeps only a raw pointer.
    func install(on sslContext: OpaquePointer) {
        guard isEnabled else { return }
        SSL_CTX_set_cert_cb(sslContext, Self.certificateCallback, Unmanaged.passUnretained(self).toOpaque())
    }

    /// OpenSSL calls it for a handshake that is not resumed (`!s->hit`), before choosing the certificate and
    /// signing: 1 goes on, 0 fails the handshake.
    private static let certificateCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> CInt = {
        _, argument in
        guard let argument else { return 1 }
        let budget = Unmanaged<TLSHandshakeBudget>.fromOpaque(argument).takeUnretainedValue()
        return budget.charge(now: .now()) ? 1 : 0
    }
}
