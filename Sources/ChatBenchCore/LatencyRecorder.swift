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

    /// The percentiles the benchmark reports.
    public var summary: LatencySummary {
        guard histogram.totalCount > 0 else { return LatencySummary() }
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1_000 }
        return LatencySummary(
            count: Int(histogram.totalCount),
            p50: ms(histogram.valueAtPercentile(50)),
            p90: ms(histogram.valueAtPercentile(90)),
            p99: ms(histogram.valueAtPercentile(99)),
            p999: ms(histogram.valueAtPercentile(99.9)),
            max: ms(histogram.max),
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
