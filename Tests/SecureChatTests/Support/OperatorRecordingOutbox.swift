import NIOConcurrencyHelpers
import NIOCore
import SecureChat

/// An in-memory `ClientOutbox` for hub-level operator tests: records lines and whether it was closed.
final class OperatorRecordingOutbox: ClientOutbox {
    private let state = NIOLockedValueBox<(lines: [String], closeReason: String?)>(([], nil))

    func enqueue(_ line: ByteBuffer) -> EnqueueResult {
        state.withLockedValue {
            if $0.closeReason != nil { return .closed }
            $0.lines.append(String(buffer: line).trimmingNewline)
            return .queued(wake: nil)
        }
    }

    func wake() {}

    func close(reason: CloseReason) {
        state.withLockedValue { $0.closeReason = $0.closeReason ?? reason.leaveText }
    }

    var lines: [String] { state.withLockedValue { $0.lines } }
    var closeReason: String? { state.withLockedValue { $0.closeReason } }
}

extension String {
    fileprivate var trimmingNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}
