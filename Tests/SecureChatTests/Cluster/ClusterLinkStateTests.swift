import NIOCore
import Testing

@testable import SecureChat

/// Every transition of the link's state machine, without a database: what each event does to the phase, and
/// the one action it asks of the link.
@Suite("ClusterLinkState: the link's transitions")
struct ClusterLinkStateTests {
    static let timeout = TimeAmount.seconds(10)
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func at(_ seconds: Double) -> NIODeadline {
        start + .nanoseconds(Int64(seconds * 1_000_000_000))
    }

    /// Joined, listener connected and caught up: live.
    static func live() -> ClusterLinkState {
        var state = ClusterLinkState(nodeTimeout: timeout, probeGrace: .seconds(2))
        _ = state.joined(at: at(0))
        _ = state.listenerConnected(at: at(0))
        _ = state.listenerCaughtUp()
        return state
    }

    static func paused() -> ClusterLinkState {
        var state = live()
        _ = state.heartbeatFailed(at: at(1))
        return state
    }

    static func out() -> ClusterLinkState {
        var state = paused()
        _ = state.heartbeatFailed(at: at(11))
        return state
    }

    @Test("connecting → live when the node has joined; nothing else starts it")
    func connectingToLive() {
        var state = ClusterLinkState(nodeTimeout: Self.timeout, probeGrace: .seconds(2))
        #expect(state.phase == .connecting)
        #expect(state.heartbeatFailed(at: Self.at(0)) == .none)
        #expect(state.listenerLost() == .none)
        #expect(state.phase == .connecting)
        #expect(state.joined(at: Self.at(0)) == .none)
        #expect(state.phase == .live)
        #expect(state.isLive)
    }

    @Test("live → paused when the listener is lost: users are told once")
    func liveToPausedByListener() {
        var state = Self.live()
        #expect(state.listenerLost() == .pause)
        #expect(state.phase == .paused)
        #expect(state.listenerLost() == .none)
        #expect(state.heartbeatFailed(at: Self.at(2)) == .none)
        #expect(!state.isLive)
    }

    @Test("live → paused when a heartbeat fails")
    func liveToPausedByHeartbeat() {
        var state = Self.live()
        #expect(state.heartbeatFailed(at: Self.at(1)) == .pause)
        #expect(state.phase == .paused)
    }

    @Test("paused → live only once the listener has caught up and a heartbeat has succeeded")
    func pausedToLive() {
        var state = Self.paused()
        _ = state.listenerLost()
        #expect(state.listenerCaughtUp() == .none, "the heartbeat still fails")
        #expect(state.phase == .paused)
        #expect(state.heartbeatSucceeded(at: Self.at(2)) == .resume)
        #expect(state.phase == .live)

        var byListener = Self.live()
        _ = byListener.listenerLost()
        #expect(byListener.heartbeatSucceeded(at: Self.at(2)) == .none, "the listener has not caught up")
        #expect(byListener.listenerCaughtUp() == .resume)
    }

    @Test("paused → out after a full node timeout without a successful heartbeat, by a failure or a tick")
    func pausedToOut() {
        var state = Self.paused()
        #expect(state.heartbeatFailed(at: Self.at(9.9)) == .none)
        #expect(state.phase == .paused)
        #expect(state.heartbeatFailed(at: Self.at(10)) == .goOut)
        #expect(state.phase == .out)

        var hanging = Self.paused()
        #expect(hanging.tick(at: Self.at(5)) == .none)
        #expect(hanging.tick(at: Self.at(10)) == .goOut)
        #expect(hanging.phase == .out)
        #expect(hanging.tick(at: Self.at(11)) == .none)
    }

    @Test("out → paused → live: a heartbeat proves the node still registered; chat waits for the listener too")
    func outBack() {
        var state = Self.out()
        _ = state.listenerLost()
        #expect(state.heartbeatSucceeded(at: Self.at(12)) == .none)
        #expect(state.phase == .paused)
        #expect(state.listenerCaughtUp() == .resume)
        #expect(state.phase == .live)

        var ready = Self.out()
        #expect(ready.heartbeatSucceeded(at: Self.at(12)) == .resume)
        #expect(ready.phase == .live)
    }

    @Test("live, paused or out → rejoining when declared down, once")
    func declaredDown() {
        for var state in [Self.live(), Self.paused(), Self.out()] {
            #expect(state.declaredDown() == .rejoin)
            #expect(state.phase == .rejoining)
            #expect(state.declaredDown() == .none)
            #expect(state.listenerCaughtUp() == .none)
            #expect(state.heartbeatSucceeded(at: Self.at(20)) == .none)
            #expect(state.phase == .rejoining)
        }
    }

    @Test("rejoining → live when registered anew (listener ready), → paused when that failed")
    func rejoining() {
        var state = Self.live()
        _ = state.declaredDown()
        #expect(state.rejoined(at: Self.at(3)) == .resume)
        #expect(state.phase == .live)
        #expect(!state.mayDeclareOthersDown(at: Self.at(12)), "the beat streak starts again")
        #expect(state.mayDeclareOthersDown(at: Self.at(13)))

        var failed = Self.live()
        _ = failed.declaredDown()
        #expect(failed.rejoinFailed() == .none)
        #expect(failed.phase == .paused)
        #expect(failed.heartbeatSucceeded(at: Self.at(4)) == .resume)
    }

    @Test("any phase → stopping; nothing brings the link back or rejoins afterwards")
    func stopping() {
        var live = Self.live()
        #expect(live.stop() == .none)
        #expect(live.phase == .stopping(wasLive: true))
        #expect(live.mayCommit)
        #expect(!live.isLive)
        #expect(live.declaredDown() == .none)
        #expect(live.listenerLost() == .none)
        #expect(live.heartbeatSucceeded(at: Self.at(2)) == .none)
        #expect(live.phase == .stopping(wasLive: true))

        var paused = Self.paused()
        _ = paused.stop()
        #expect(paused.phase == .stopping(wasLive: false))
        #expect(!paused.mayCommit)
        #expect(paused.listenerCaughtUp() == .none)
    }

    @Test("a stall is not a death: others are declared down only after a node timeout of unbroken heartbeats")
    func mayDeclareOthersDown() {
        var state = Self.live()
        #expect(state.mayDeclareOthersDown(at: Self.at(10)))
        _ = state.heartbeatFailed(at: Self.at(11))
        _ = state.heartbeatSucceeded(at: Self.at(25))
        _ = state.listenerCaughtUp()
        #expect(state.phase == .live)
        #expect(!state.mayDeclareOthersDown(at: Self.at(34)))
        _ = state.heartbeatSucceeded(at: Self.at(30))
        #expect(state.mayDeclareOthersDown(at: Self.at(35)))
        _ = state.listenerLost()
        #expect(!state.mayDeclareOthersDown(at: Self.at(40)), "only while live")
    }

    @Test("a listener that does not hear a probe within the grace is restarted; a heard probe clears it")
    func probes() {
        var state = Self.live()
        _ = state.heartbeatSucceeded(at: Self.at(2), probe: 1, sentAt: Self.at(1.9))
        #expect(state.tick(at: Self.at(3)) == .none)
        #expect(state.probeHeard(1) == .none)
        #expect(state.tick(at: Self.at(5)) == .none)
        _ = state.heartbeatSucceeded(at: Self.at(6), probe: 2, sentAt: Self.at(6))
        _ = state.heartbeatSucceeded(at: Self.at(7), probe: 3, sentAt: Self.at(7))
        #expect(state.tick(at: Self.at(7.9)) == .none)
        #expect(state.tick(at: Self.at(8)) == .restartListener)
        #expect(state.tick(at: Self.at(8.1)) == .none, "once per deaf connection")

        var unconnected = Self.live()
        _ = unconnected.listenerLost()
        _ = unconnected.heartbeatSucceeded(at: Self.at(2), probe: 1, sentAt: Self.at(2))
        #expect(unconnected.tick(at: Self.at(9)) == .none, "no listener, no probe to miss")
    }

    @Test("a probe heard before its heartbeat reported success is not missed")
    func probeOvertakesItsHeartbeat() {
        var state = Self.live()
        _ = state.probeHeard(1)
        _ = state.heartbeatSucceeded(at: Self.at(2), probe: 1, sentAt: Self.at(1))
        #expect(state.tick(at: Self.at(10)) == .none)
        _ = state.heartbeatSucceeded(at: Self.at(11), probe: 2, sentAt: Self.at(11))
        _ = state.probeHeard(2)
        #expect(state.tick(at: Self.at(20)) == .none)
    }
}
