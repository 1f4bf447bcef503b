import Testing

@testable import ChatBenchCore

@Suite("The latency distribution file of chatbench latency --distribution")
struct LatencyDistributionTests {
    /// 1 µs to 10 ms, uniform: every percentile p is near p / 10 ms.
    static func uniformRecorder() -> LatencyRecorder {
        var recorder = LatencyRecorder()
        for micros in 1...10_000 { recorder.record(nanoseconds: UInt64(micros) * 1_000) }
        return recorder
    }

    /// The data lines of `text` as (percentile, milliseconds), failing the test on any line gnuplot could not read.
    static func parse(_ text: String) -> [(percentile: Double, milliseconds: Double)] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let percentile = Double(fields[0]), let milliseconds = Double(fields[1]) else {
                Issue.record("not a 'percentile latency_ms' line: \(line)")
                return nil
            }
            return (percentile, milliseconds)
        }
    }

    @Test func headerIsOneCommentLineWithCountAndNote() throws {
        let text = LatencyDistribution(Self.uniformRecorder()).text(note: "from: chatbench latency\n--rate 10")
        let header = try #require(text.split(separator: "\n").first)
        #expect(header.hasPrefix("# percentile latency_ms"))
        #expect(header.contains("10000 latencies"))
        // The note's newline must not start a data line gnuplot would choke on.
        #expect(header.hasSuffix("from: chatbench latency --rate 10"))
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n").dropFirst().allSatisfy { !$0.hasPrefix("#") })
    }

    @Test func pointsRunFromTheMinimumThroughThe9999thPercentileToTheMaximum() throws {
        let points = Self.parse(LatencyDistribution(Self.uniformRecorder()).text())
        let first = try #require(points.first)
        let last = try #require(points.last)
        #expect(first.percentile == 0)
        #expect(first.milliseconds == 0.001)
        #expect(points.contains { $0.percentile == 99.99 })
        #expect(last.percentile == 100)
        #expect(abs(last.milliseconds - 10.0) < 0.01)
        // Dense enough for a smooth curve on the 1/(1-p) axis: several points in each "nine".
        for (low, high) in [(0.0, 90.0), (90, 99), (99, 99.9), (99.9, 99.99)] {
            #expect(
                points.filter { $0.percentile > low && $0.percentile < high }.count >= 5, "between \(low) and \(high)")
        }
    }

    @Test func percentilesRiseStrictlyAndLatenciesNeverFall() {
        var recorder = Self.uniformRecorder()
        var tail = LatencyRecorder()
        for _ in 0..<20 { tail.record(nanoseconds: 250_000_000) }
        recorder.merge(tail)
        let points = Self.parse(LatencyDistribution(recorder).text())
        #expect(points.count == LatencyDistribution.standardPercentiles.count + 1)
        for (before, after) in zip(points, points.dropFirst()) {
            #expect(before.percentile < after.percentile)
            #expect(before.milliseconds <= after.milliseconds, "at \(after.percentile)")
        }
    }

    @Test func reportedPercentilesMatchTheSummary() throws {
        var recorder = Self.uniformRecorder()
        for _ in 0..<50 { recorder.record(nanoseconds: 42_000_000) }
        let summary = recorder.summary
        let points = Self.parse(LatencyDistribution(recorder).text())
        func line(_ percentile: Double) throws -> Double {
            try #require(points.first { $0.percentile == percentile }, "no line for \(percentile)").milliseconds
        }
        #expect(try line(50) == summary.p50)
        #expect(try line(90) == summary.p90)
        #expect(try line(99) == summary.p99)
        #expect(try line(99.9) == summary.p999)
        #expect(try line(100) == summary.max)
        // And the values are the distribution's, not just consistent with each other: the 5,025th of 10,050.
        #expect(abs(summary.p50 - 5.025) < 0.01)
        #expect(abs(summary.max - 42.0) < 0.05)
    }

    @Test func ticksAreHdrHistogramsFivePerHalfDistance() {
        let ticks = LatencyDistribution.ticks(perHalfDistance: 5, through: 90)
        #expect(ticks == [0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5, 85, 87.5, 88.75, 90])
    }

    @Test func emptyRecorderWritesOnlyTheHeader() {
        let text = LatencyDistribution(LatencyRecorder()).text()
        #expect(text == "# percentile latency_ms (0 latencies; percentile 100 is the maximum)\n")
    }
}
