import Testing

@testable import ChatBenchCore

@Suite("Percentiles, address ranges, /proc parsing, result lines")
struct ReportingTests {
    @Test func percentilesOfAUniformDistribution() {
        var recorder = LatencyRecorder()
        for micros in 1...10_000 { recorder.record(nanoseconds: UInt64(micros) * 1_000) }
        let summary = recorder.summary
        #expect(summary.count == 10_000)
        // 3 significant digits: within 0.1 %.
        #expect(abs(summary.p50 - 5.0) < 0.01)
        #expect(abs(summary.p90 - 9.0) < 0.01)
        #expect(abs(summary.p99 - 9.9) < 0.01)
        #expect(abs(summary.p999 - 9.99) < 0.01)
        #expect(abs(summary.max - 10.0) < 0.01)
    }

    @Test func mergedRecordersReportTheUnion() {
        var fast = LatencyRecorder()
        var slow = LatencyRecorder()
        for _ in 0..<990 { fast.record(nanoseconds: 1_000_000) }
        for _ in 0..<10 { slow.record(nanoseconds: 50_000_000) }
        fast.merge(slow)
        #expect(fast.count == 1000)
        #expect(abs(fast.summary.p50 - 1.0) < 0.01)
        #expect(abs(fast.summary.p999 - 50.0) < 0.1)
    }

    @Test func emptyRecorderReportsZeros() {
        #expect(LatencyRecorder().summary == LatencySummary())
    }

    @Test func addressRangeExpands() throws {
        #expect(try AddressRange.parse("127.0.0.1-127.0.0.3") == ["127.0.0.1", "127.0.0.2", "127.0.0.3"])
        #expect(try AddressRange.parse("127.0.0.255-127.0.1.1") == ["127.0.0.255", "127.0.1.0", "127.0.1.1"])
        #expect(try AddressRange.parse("127.0.0.1, ::1,127.0.0.1") == ["127.0.0.1", "::1"])
    }

    @Test(arguments: ["10.0.0.1", "192.168.1.1-192.168.1.5", "127.0.0.1-128.0.0.1", "8.8.8.8"])
    func nonLoopbackIsRefused(spec: String) {
        #expect(throws: AddressRange.ParseError.self) { try AddressRange.parse(spec) }
    }

    @Test(arguments: [
        "", "127.0.0", "127.0.0.256", "127.0.0.5-127.0.0.1", "127.0.0.1-127.0.0.2-127.0.0.3", "::2", "a.b.c.d",
    ])
    func malformedIsRefused(spec: String) {
        #expect(throws: AddressRange.ParseError.self) { try AddressRange.parse(spec) }
    }

    @Test func loopbackHosts() {
        #expect(AddressRange.isLoopbackHost("127.0.0.1"))
        #expect(AddressRange.isLoopbackHost("::1"))
        #expect(AddressRange.isLoopbackHost("localhost"))
        #expect(!AddressRange.isLoopbackHost("example.com"))
        #expect(!AddressRange.isLoopbackHost("10.1.2.3"))
    }

    @Test func procParsing() {
        let status = "Name:\tsecurechatd\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n"
        #expect(ProcessSample.residentBytes(status: status) == 12345 * 1024)
        let stat = "4242 (secure chat) d) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 0 0"
        #expect(ProcessSample.cpuTicks(stat: stat) == 300)
        #expect(ProcessSample.cpuTicks(stat: "garbage") == nil)
    }

    @Test func ownProcessCanBeSampled() throws {
        let sample = try #require(ProcessSample.read(pid: getpid()))
        #expect(sample.residentBytes > 0)
        #expect(ProcessSample.read(pid: -5) == nil)
    }

    @Test func resultRendersJSONInOrderAndATable() {
        var result = BenchResult(scenario: "fanout", transport: "plaintext")
        result.add("clients", "clients", 200)
        result.add("deliveries_per_s", "deliveries/s", 1_234_567.891)
        result.add("ok", "ok", true)
        result.add("note", "note", "a \"quoted\" line")
        result.command = "chatbench fanout"
        #expect(
            result.jsonLine
                == #"{"scenario":"fanout","transport":"plaintext","clients":200,"deliveries_per_s":1234567.891,"ok":true,"note":"a \"quoted\" line","command":"chatbench fanout"}"#
        )
        #expect(result.table.contains("deliveries/s  1234568"))
        #expect(result.table.contains("clients       200"))
    }

    @Test func mixedRunsSpreadTheAlternateShareEvenly() {
        let picks = (0..<10).filter { IdleScenario.usesAlternate($0, ratio: 0.3) }
        #expect(picks.count == 3)
        #expect((0..<10).allSatisfy { !IdleScenario.usesAlternate($0, ratio: 0) })
        #expect((0..<10).allSatisfy { IdleScenario.usesAlternate($0, ratio: 1) })
    }
}

#if canImport(Glibc)
    import Glibc
#endif
