import Histogram

/// Delivery latencies in microseconds, kept in an HdrHistogram (3 significant digits, 1 µs to 10 min).
///
/// One recorder per event loop; ``merge(_:)`` them at the end.
public struct LatencyRecorder: Sendable {
    private var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three
    )

    public init() {}

    /// Records one latency; values under 1 µs count as 1 µs, values over 10 min as 10 min.
    public mutating func record(nanoseconds: UInt64) {
        let micros = min(max(nanoseconds / 1_000, 1), 600_000_000)
        _ = histogram.record(micros)
    }

    public mutating func merge(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
    }

    public var count: UInt64 { histogram.totalCount }

    /// The latency at `percentile` (0-100) in milliseconds: 0 the minimum, 100 the highest recorded value; 0
    /// when nothing was recorded. ``summary`` and ``LatencyDistribution`` both read through here, so a plotted
    /// p99 is the p99 of the JSON line.
    public func milliseconds(atPercentile percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / 1_000
    }

    /// The percentiles the benchmark reports.
    public var summary: LatencySummary {
        guard histogram.totalCount > 0 else { return LatencySummary() }
        return LatencySummary(
            count: Int(histogram.totalCount),
            p50: milliseconds(atPercentile: 50),
            p90: milliseconds(atPercentile: 90),
            p99: milliseconds(atPercentile: 99),
            p999: milliseconds(atPercentile: 99.9),
            max: Double(histogram.max) / 1_000,
            mean: histogram.mean / 1_000
        )
    }
}

/// Latency percentiles in milliseconds.
public struct LatencySummary: Sendable, Equatable, Codable {
    public var count = 0
    public var p50 = 0.0
    public var p90 = 0.0
    public var p99 = 0.0
    public var p999 = 0.0
    public var max = 0.0
    public var mean = 0.0

    public init() {}

    public init(count: Int, p50: Double, p90: Double, p99: Double, p999: Double, max: Double, mean: Double) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }
}
