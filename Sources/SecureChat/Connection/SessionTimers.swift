import NIOConcurrencyHelpers
import NIOCore

/// A connection's two session clocks: the login timeout, armed at accept (it covers the TLS handshake too)
/// and stopped at login, and the idle monitor, started at login when `--idle-timeout` is set. Both end the
/// connection the one way there is: by asking its outbox to close.
final class SessionTimers: Sendable {
    private struct State {
        var loginTimer: Scheduled<Void>?
        var idleMonitor: IdleMonitor?
        var stopped = false
    }

    private let state = NIOLockedValueBox(State())
    private let outbox: Outbox
    private let idleTimeout: TimeAmount?

    /// Arms the login timer.
    init(outbox: Outbox, loginTimeout: TimeAmount, idleTimeout: TimeAmount?, log: ConnectionLog) {
        self.outbox = outbox
        self.idleTimeout = idleTimeout
        let timer = outbox.eventLoop.scheduleTask(in: loginTimeout) {
            log.log(.info, "login timeout; closing")
            outbox.abort(reason: .loginTimeout)
        }
        state.withLockedValue { $0.loginTimer = timer }
    }

    /// The user logged in: the login timer stops and the idle clock starts.
    func loggedIn() {
        let monitor = idleTimeout.map(makeIdleMonitor)
        let (timer, started): (Scheduled<Void>?, IdleMonitor?) = state.withLockedValue { state in
            defer { state.loginTimer = nil }
            if state.stopped { return (state.loginTimer, nil) }
            state.idleMonitor = monitor
            return (state.loginTimer, monitor)
        }
        timer?.cancel()
        started?.start()
    }

    /// The user did something.
    func active() {
        state.withLockedValue { $0.idleMonitor }?.touch()
    }

    /// The session ended (or never began): nothing may fire any more.
    func stop() {
        let (timer, monitor) = state.withLockedValue { state in
            state.stopped = true
            defer {
                state.loginTimer = nil
                state.idleMonitor = nil
            }
            return (state.loginTimer, state.idleMonitor)
        }
        timer?.cancel()
        monitor?.stop()
    }

    private func makeIdleMonitor(timeout: TimeAmount) -> IdleMonitor {
        let outbox = self.outbox
        return IdleMonitor(
            timeout: timeout,
            eventLoop: outbox.eventLoop,
            onWarning: { left in
                let seconds = max(1, Int((Double(left.nanoseconds) / 1e9).rounded()))
                outbox.send(
                    ChatEvent.notice(
                        "You have been idle; you will be disconnected in \(seconds) s unless you send something."
                    )
                )
            },
            onExpiry: { outbox.close(reason: .idleTimeout) }
        )
    }
}
