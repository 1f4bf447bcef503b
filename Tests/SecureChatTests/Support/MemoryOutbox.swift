import NIOConcurrencyHelpers
import NIOCore
import SecureChat

/// An in-memory `ClientOutbox` for hub tests: records every line it accepts. With `capacity`, the line that
/// would exceed it overflows (as `Outbox` does: the queue is dropped and the outbox counts as closing).
final class MemoryOutbox: ClientOutbox, Sendable {
    private struct State {
        var lines: [String] = []
        var closing = false
        var closeReasons: [String] = []
        var overflows = 0
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int?
    let format: WireFormat

    init(capacity: Int? = nil, format: WireFormat = .line) {
        self.capacity = capacity
        self.format = format
    }

    func enqueue(_ line: ByteBuffer) -> EnqueueResult {
        state.withLockedValue { state in
            if state.closing { return .closed }
            if let capacity, state.lines.count >= capacity {
                state.closing = true
                state.overflows += 1
                return .overflow
            }
            state.lines.append(String(buffer: line))
            return .queued(wake: nil)
        }
    }

    func wake() {}

    func close(reason: CloseReason) {
        state.withLockedValue {
            $0.closing = true
            $0.closeReasons.append(reason.leaveText)
        }
    }

    /// Every line accepted so far, without the trailing newline (which is checked once here).
    var lines: [String] {
        state.withLockedValue { $0.lines }.map { line in
            precondition(line.hasSuffix("\n"), "a server line without its newline: \(line.debugDescription)")
            return String(line.dropLast())
        }
    }

    var overflows: Int { state.withLockedValue { $0.overflows } }
    var closeReasons: [String] { state.withLockedValue { $0.closeReasons } }

    /// Forgets the lines recorded so far.
    func clear() {
        state.withLockedValue { $0.lines.removeAll() }
    }
}
