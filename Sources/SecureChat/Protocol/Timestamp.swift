#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A wall-clock instant in whole seconds since the Unix epoch, formatted in UTC for users.
///
/// Wall-clock time is only for showing to people (history marks, "connected since"); durations and timeouts
/// use NIO's monotonic `NIODeadline`.
public struct Timestamp: Hashable, Comparable, Sendable {
    public let secondsSinceEpoch: Int

    public init(secondsSinceEpoch: Int) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(secondsSinceEpoch: Int(spec.tv_sec))
    }

    /// `HH:MM:SS` in UTC: the mark on replayed history lines.
    public var timeOfDay: String {
        let parts = self.utc
        return "\(Self.pad(parts.tm_hour)):\(Self.pad(parts.tm_min)):\(Self.pad(parts.tm_sec))"
    }

    /// `YYYY-MM-DD HH:MM:SS UTC`.
    public var dateTime: String {
        "\(date) \(self.timeOfDay) UTC"
    }

    /// `YYYY-MM-DDTHH:MM:SS.fffZ`, for machine-readable logs.
    public func iso8601(fraction: String) -> String {
        "\(date)T\(timeOfDay).\(fraction)Z"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, for JSON clients.
    public var iso8601: String {
        "\(date)T\(timeOfDay)Z"
    }

    private var date: String {
        let parts = self.utc
        // In Int: glibc fills tm_year up to Int32.max (a hand-edited ban file's `bannedAt` can get there), and
        // `+ 1900` in Int32 would trap.
        return "\(Int(parts.tm_year) + 1900)-\(Self.pad(parts.tm_mon + 1))-\(Self.pad(parts.tm_mday))"
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.secondsSinceEpoch < rhs.secondsSinceEpoch
    }

    /// A short human duration such as `3h 12m` or `45s`.
    public static func describe(seconds: Int) -> String {
        let seconds = max(0, seconds)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m \(seconds % 60)s" }
        if seconds < 86400 { return "\(seconds / 3600)h \(seconds % 3600 / 60)m" }
        return "\(seconds / 86400)d \(seconds % 86400 / 3600)h"
    }

    private var utc: tm {
        var time = time_t(self.secondsSinceEpoch)
        var parts = tm()
        gmtime_r(&time, &parts)
        return parts
    }

    private static func pad(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
