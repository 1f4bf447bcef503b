import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Progress lines on stderr, at most one per `interval`, so long runs show they are alive.
public final class ProgressReporter: Sendable {
    private let label: String
    private let interval: UInt64
    private let enabled: Bool
    private let last = NIOLockedValueBox<UInt64>(0)

    public init(label: String, enabled: Bool, intervalSeconds: Double = 1) {
        self.label = label
        self.enabled = enabled
        self.interval = UInt64(intervalSeconds * 1e9)
    }

    /// Prints `message` unless one was printed less than an interval ago.
    public func update(_ message: @autoclosure () -> String) {
        guard enabled else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let due = last.withLockedValue { last in
            guard now - last >= interval else { return false }
            last = now
            return true
        }
        if due { Self.write("\(label): \(message())\n") }
    }

    /// Prints `message` now.
    public func say(_ message: String) {
        guard enabled else { return }
        Self.write("\(label): \(message)\n")
    }

    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}
