import NIOConcurrencyHelpers
import NIOCore

/// Evicts a logged-in user who sends nothing for `timeout`, after warning them `warningLead` before.
///
/// One timer per connection on its event loop, rescheduled lazily: `touch()` only stores a time, so activity
/// costs nothing but a lock; the timer, when it fires, looks at the last activity and decides.
public final class IdleMonitor: Sendable {
    private struct State {
        var lastActivity: NIODeadline
        var warned = false
        var timer: Scheduled<Void>?
        var stopped = false
    }

    private let state: NIOLockedValueBox<State>
    private let timeout: TimeAmount
    private let warningLead: TimeAmount
    private let eventLoop: any EventLoop
    private let onWarning: @Sendable (TimeAmount) -> Void
    private let onExpiry: @Sendable () -> Void

    /// - Parameters:
    ///   - warningLead: how long before eviction the warning goes out (clamped to half the timeout).
    ///   - onWarning: called with the warning lead (the time left, give or take the timer's lateness).
    public init(
        timeout: TimeAmount,
        warningLead: TimeAmount = .seconds(60),
        eventLoop: any EventLoop,
        onWarning: @escaping @Sendable (TimeAmount) -> Void,
        onExpiry: @escaping @Sendable () -> Void
    ) {
        self.timeout = timeout
        self.warningLead = min(warningLead, .nanoseconds(timeout.nanoseconds / 2))
        self.eventLoop = eventLoop
        self.onWarning = onWarning
        self.onExpiry = onExpiry
        self.state = NIOLockedValueBox(State(lastActivity: .now()))
    }

    /// Starts watching, counting from now.
    public func start() {
        touch()
        schedule(at: .now() + timeout - warningLead)
    }

    /// Records activity.
    public func touch() {
        state.withLockedValue {
            $0.lastActivity = .now()
            $0.warned = false
        }
    }

    public func stop() {
        let timer = state.withLockedValue {
            $0.stopped = true
            return $0.timer
        }
        timer?.cancel()
    }

    private func schedule(at deadline: NIODeadline) {
        let timer = eventLoop.scheduleTask(deadline: deadline) { [self] in check() }
        let stopped = state.withLockedValue {
            $0.timer = timer
            return $0.stopped
        }
        if stopped { timer.cancel() }
    }

    private func check() {
        enum Action {
            case warn(TimeAmount)
            case expire
            case wait(NIODeadline)
        }
        let now = NIODeadline.now()
        let action: Action? = state.withLockedValue {
            if $0.stopped { return nil }
            let expiry = $0.lastActivity + timeout
            if now >= expiry { return .expire }
            if now >= expiry - warningLead {
                if $0.warned { return .wait(expiry) }
                $0.warned = true
                return .warn(expiry - now)
            }
            return .wait(expiry - warningLead)
        }
        switch action {
        case .none: return
        case .expire: onExpiry()
        case .warn(let left):
            // The user is told the configured lead, not the few milliseconds the timer may have fired late.
            onWarning(warningLead)
            schedule(at: now + left)
        case .wait(let deadline): schedule(at: deadline)
        }
    }
}
