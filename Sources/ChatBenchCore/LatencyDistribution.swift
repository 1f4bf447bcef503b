/// A latency distribution as (percentile, latency) points, written as text for gnuplot
/// (`chatbench latency --distribution`, plotted by bench/plot-latency.sh).
///
/// The points are meant for HdrHistogram's usual plot, latency against 1/(1-p) on a log axis, where each
/// "nine" (90 %, 99 %, 99.9 %, ...) gets the same width. So the percentiles are HdrHistogram's percentile
/// ticks, a fixed number in each half of the remaining distance to 100 %, which gives every nine about the same
/// number of points; the percentiles the JSON line reports are added so that they can be read off the file exactly.
public struct LatencyDistribution: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        /// 0-100; 100 is the maximum.
        public var percentile: Double
        public var milliseconds: Double
    }

    /// How many latencies the distribution holds.
    public let count: Int
    /// By percentile, ascending; empty when nothing was recorded.
    public let points: [Point]

    /// The percentiles of `recorder` at ``standardPercentiles`` and its maximum (as percentile 100).
    public init(_ recorder: LatencyRecorder) {
        let summary = recorder.summary
        count = summary.count
        guard summary.count > 0 else {
            points = []
            return
        }
        let percentiles = Self.standardPercentiles.map {
            Point(percentile: $0, milliseconds: recorder.milliseconds(atPercentile: $0))
        }
        // The summary's max (the top of the highest bucket), so that this line matches the JSON's max_ms.
        points = percentiles + [Point(percentile: 100, milliseconds: summary.max)]
    }

    /// HdrHistogram's percentile ticks (5 per half distance) from 0 through 99.99, plus the reported ones.
    public static let standardPercentiles: [Double] = {
        let reported = [50, 90, 99, 99.9, 99.99]
        return Set(ticks(perHalfDistance: 5, through: 99.99) + reported).sorted()
    }()

    /// `perHalfDistance` evenly spaced levels in [0, 50), then in [50, 75), [75, 87.5), ..., up to `last`.
    ///
    /// The same levels as HdrHistogram's `percentiles(ticksPerHalfDistance:)`, computed here rather than taken
    /// from that iterator because the iterator's values are bucket tops, not clamped to the largest recorded
    /// value as `valueAtPercentile` (the summary's) is; mixing the two could make the curve step backwards.
    /// Each step is 10 * tick / 2^n (for 5 ticks), exact in binary floating point, so the sums carry no rounding
    /// error and 50 and 90 come out exactly (and merge with the reported percentiles).
    static func ticks(perHalfDistance: Int, through last: Double) -> [Double] {
        var levels: [Double] = []
        var start = 0.0
        var half = 50.0
        while start <= last {
            for tick in 0..<perHalfDistance {
                let level = start + half * Double(tick) / Double(perHalfDistance)
                if level > last { break }
                levels.append(level)
            }
            start += half
            half /= 2
        }
        return levels
    }

    /// A `#` header line, then `percentile latency_ms` per line: gnuplot's default data format.
    ///
    /// - Parameter note: appended to the header (e.g. the command line that measured it); on one line.
    public func text(note: String? = nil) -> String {
        var header = "# percentile latency_ms (\(count) latencies; percentile 100 is the maximum)"
        if let note, !note.isEmpty {
            header += " " + String(note.map { $0.isNewline ? " " : $0 })
        }
        var lines = [header]
        for point in points {
            // Microsecond resolution: the recorder counts whole microseconds, so 3 decimals are exact.
            lines.append(JSON.render(.number(point.percentile)) + " " + JSON.fixed(point.milliseconds, decimals: 3))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
