import NIOConcurrencyHelpers

/// The first of two racing outcomes (a task's end, a timer), awaited without regard to cancellation: a server
/// that is being cancelled must still wait, boundedly, for what it stops.
final class FirstOutcome: Sendable {
    private struct State {
        var outcome: Bool?
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = NIOLockedValueBox(State())

    /// Records `outcome` if it is the first; later ones are ignored.
    func settle(_ outcome: Bool) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: outcome)
    }

    /// The first outcome, once there is one.
    func value() async -> Bool {
        await withCheckedContinuation { continuation in
            let early = state.withLockedValue { state -> Bool? in
                if let outcome = state.outcome { return outcome }
                state.waiter = continuation
                return nil
            }
            if let early { continuation.resume(returning: early) }
        }
    }
}
