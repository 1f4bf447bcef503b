import NIOCore
import Testing

@testable import SecureChat

@Suite("TLS abuse guard: request rate and unsent TLS output")
struct TLSAbuseGuardTests {
    @Test func moreThanFivePeerRequestsWithinOneSecondAreRefusedAndANewSecondStartsAfresh() {
        var guardian = TLSAbuseGuard()
        let start = NIODeadline.uptimeNanoseconds(10_000_000_000)
        #expect(guardian.peerRequests(0, at: start) == nil)
        #expect(guardian.peerRequests(5, at: start) == nil)
        #expect(guardian.peerRequests(1, at: start + .milliseconds(999))?.code == .peerAbuse)

        var later = TLSAbuseGuard()
        #expect(later.peerRequests(5, at: start) == nil)
        #expect(later.peerRequests(5, at: start + .seconds(1)) == nil, "a new window")
        let refusal = later.peerRequests(1, at: start + .milliseconds(1500))
        let reason = refusal?.reason ?? "none"
        #expect(reason.contains("6 KeyUpdate or renegotiation requests"), "\(reason)")
    }

    @Test func unsentTLSOutputIsBoundedAndFreedAsTheSocketTakesIt() {
        var guardian = TLSAbuseGuard()
        guardian.limits.unsentControlBytes = 100
        #expect(guardian.controlOutputQueued(60) == nil)
        #expect(guardian.controlOutputQueued(41)?.code == .peerAbuse)
        #expect(guardian.unsentControlBytes == 60, "a refused write is not counted")
        guardian.controlOutputDone(60)
        #expect(guardian.controlOutputQueued(100) == nil)
    }
}
