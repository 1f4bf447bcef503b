import Testing

@testable import ChatBenchCore

@Suite("Open-ended sequence check (soak)")
struct SequenceTrackerTests {
    @Test func inOrderStreamJudgedAgainstTheFinalCountIsPerfect() {
        var tracker = SequenceTracker()
        for sequence in 0..<1000 { tracker.record(sequence) }
        let tally = tracker.verdict(sent: 1000)
        #expect(tally.isPerfect)
        #expect(tally.expected == 1000)
        #expect(tally.received == 1000)
    }

    @Test func lineNeverReceivedIsMissingEvenAtTheEnd() {
        var tracker = SequenceTracker()
        for sequence in 0..<99 { tracker.record(sequence) }
        // The sender says it sent 100: the last one never came.
        let tally = tracker.verdict(sent: 100)
        #expect(tally.missing == 1)
        #expect(tally.outOfOrder == 0)
        #expect(!tally.isPerfect)
    }

    @Test func gapInTheMiddleIsMissingAndTheJumpIsOutOfOrder() {
        var tracker = SequenceTracker()
        for sequence in [0, 1, 3, 4] { tracker.record(sequence) }
        let tally = tracker.verdict(sent: 5)
        #expect(tally.missing == 1)
        #expect(tally.outOfOrder == 1)
    }

    @Test func duplicateIsCountedAndNotMistakenForReordering() {
        var tracker = SequenceTracker()
        for sequence in [0, 1, 1, 2, 0] { tracker.record(sequence) }
        let tally = tracker.verdict(sent: 3)
        #expect(tally.duplicates == 2)
        #expect(tally.outOfOrder == 0)
        #expect(tally.missing == 0)
        #expect(tally.received == 5)
        #expect(!tally.isPerfect)
    }

    @Test func lineNumberedPastWhatWasSentIsUnexpected() {
        var tracker = SequenceTracker()
        for sequence in [0, 1, 2, 7] { tracker.record(sequence) }
        let tally = tracker.verdict(sent: 3)
        #expect(tally.unexpected == 1)
        #expect(tally.missing == 0)
    }

    @Test func absurdSequenceNumbersAreInvalidWithoutAllocating() {
        var tracker = SequenceTracker()
        tracker.record(-1)
        tracker.record(SequenceTracker.limit)
        tracker.record(0)
        #expect(tracker.invalid == 2)
        #expect(tracker.verdict(sent: 1).unexpected == 2)
    }

    @Test(arguments: [0, 1, 63, 64, 65, 127, 128, 130, 200])
    func uniqueBelowCountsAcrossWordBoundaries(count: Int) {
        var tracker = SequenceTracker()
        for sequence in 0..<130 { tracker.record(sequence) }
        #expect(tracker.uniqueBelow(count) == min(count, 130))
    }

    @Test func nothingReceivedFromASenderThatSentNothingIsPerfect() {
        #expect(SequenceTracker().verdict(sent: 0).isPerfect)
    }
}

@Suite("Soak plan and the steady clients' ledger")
struct SoakPlanTests {
    static func plan(rooms: Int = 3, members: Int = 4, firehose: Int = 2) throws -> SoakPlan {
        try SoakPlan(
            rooms: rooms, membersPerRoom: members, intervalMilliseconds: 1000, bytes: 64, directEvery: 5,
            firehoseMembers: firehose, firehoseIntervalMilliseconds: 333, firehoseBytes: 2000, rateLimit: 5)
    }

    @Test func groupsAreLobbyThenNumberedRoomsThenTheFirehose() throws {
        let plan = try Self.plan()
        #expect(plan.groups.map(\.room) == ["#lobby", "#soak-1", "#soak-2", "#soak-slow"])
        #expect(plan.steadyCount == 14)
        #expect(plan.group(ofSteady: 0) == 0)
        #expect(plan.group(ofSteady: 4) == 1)
        #expect(plan.group(ofSteady: 11) == 2)
        #expect(plan.group(ofSteady: 12) == 3)
        #expect(plan.slowReaderRoom == "#soak-slow")
    }

    @Test func transportsAlternateWithinEachRoom() throws {
        let plan = try Self.plan(rooms: 2, members: 3)
        // Room of 3: plaintext, TLS, plaintext; the next room starts with plaintext again.
        #expect((0..<6).map { plan.usesTLS(steady: $0) } == [false, true, false, false, true, false])
    }

    @Test func directMessagesCrossRoomsAndEveryoneHasExactlyOneSource() throws {
        let plan = try Self.plan()
        for index in 0..<12 {
            let partner = try #require(plan.directPartner(of: index))
            #expect(plan.group(ofSteady: partner) != plan.group(ofSteady: index))
            #expect(plan.directSource(of: partner) == index)
        }
        #expect(plan.directPartner(of: 12) == nil)
        #expect(plan.directSource(of: 13) == nil)
    }

    @Test func withOneRoomDirectMessagesGoToTheNextMember() throws {
        let plan = try Self.plan(rooms: 1, members: 3, firehose: 0)
        #expect((0..<3).map { plan.directPartner(of: $0) } == [1, 2, 0])
        #expect(plan.slowReaderRoom == "#lobby")
    }

    @Test func paceOverEightyPercentOfTheRateLimitIsRefused() throws {
        #expect(throws: BenchError.self) {
            try SoakPlan(
                rooms: 1, membersPerRoom: 2, intervalMilliseconds: 200, bytes: 64, directEvery: 5, firehoseMembers: 0,
                firehoseIntervalMilliseconds: 1000, firehoseBytes: 64, rateLimit: 5)
        }
        #expect(throws: BenchError.self) { try Self.plan(firehose: 1) }
        // Without a rate limit any pace goes.
        let unlimited = try SoakPlan(
            rooms: 1, membersPerRoom: 2, intervalMilliseconds: 10, bytes: 64, directEvery: 5, firehoseMembers: 0,
            firehoseIntervalMilliseconds: 1000, firehoseBytes: 64, rateLimit: 0)
        #expect(unlimited.steadyCount == 2)
    }

    @Test func ledgerExpectsItsRoomAndItsOneDirectSource() throws {
        let plan = try Self.plan()
        // Client 5 is in #soak-1 with 4, 6 and 7; client 1 (in #lobby) writes DMs to it.
        var ledger = SoakLedger(owner: 5)
        let roomSent = Array(repeating: 10, count: plan.steadyCount)
        var directSent = Array(repeating: 0, count: plan.steadyCount)
        directSent[1] = 2
        for sender in [4, 6, 7] { for sequence in 0..<10 { ledger.recordRoomLine(sender: sender, sequence: sequence) } }
        ledger.recordDirectMessage(sender: 1, sequence: 0)
        ledger.recordDirectMessage(sender: 1, sequence: 1)
        let tally = ledger.verdict(plan: plan, roomSent: roomSent, directSent: directSent)
        #expect(tally.isPerfect)
        #expect(tally.expected == 32)
    }

    @Test func ledgerFlagsSilenceEchoesAndStrangers() throws {
        let plan = try Self.plan()
        var ledger = SoakLedger(owner: 5)
        let roomSent = Array(repeating: 3, count: plan.steadyCount)
        let directSent = Array(repeating: 1, count: plan.steadyCount)
        for sender in [4, 6] { for sequence in 0..<3 { ledger.recordRoomLine(sender: sender, sequence: sequence) } }
        // 7 said nothing that arrived; 5's own line came back; 0 is in another room; 2 does not DM 5.
        ledger.recordRoomLine(sender: 5, sequence: 0)
        ledger.recordRoomLine(sender: 0, sequence: 0)
        ledger.recordDirectMessage(sender: 2, sequence: 0)
        let tally = ledger.verdict(plan: plan, roomSent: roomSent, directSent: directSent)
        #expect(tally.missing == 3 + 1)  // 7's three lines, and 1's direct message
        #expect(tally.unexpected == 3)
    }
}

@Suite("Churn mix and probe bytes")
struct ChurnPlanTests {
    @Test func everyTwentyConnectionsHaveTheStatedMix() {
        var counts: [ChurnKind: Int] = [:]
        for index in 0..<20 { counts[ChurnPlan.kind(of: index), default: 0] += 1 }
        #expect(counts == [.dropBeforeLogin: 2, .quit: 8, .close: 4, .reset: 2, .roomVisit: 4])
    }

    @Test func everyKindRunsOverBothTransportsAtHalfAndHalf() {
        var seen: Set<String> = []
        for index in 0..<40 {
            seen.insert("\(ChurnPlan.kind(of: index).rawValue) \(ChurnPlan.usesTLS(index, ratio: 0.5))")
        }
        #expect(seen.count == ChurnKind.allCases.count * 2)
    }

    @Test func truncatedClientHelloLooksLikeTheStartOfOne() {
        var generator = SplitMix64()
        let bytes = ProbeBytes.truncatedClientHello(using: &generator)
        #expect(Array(bytes.prefix(6)) == [0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        #expect(bytes.count < 5 + 512)
    }

    @Test func garbageIsAWholeRecordHeaderThatIsNoTLS() {
        var generator = SplitMix64()
        for count in [1, 5, 300] {
            for _ in 0..<300 {
                let bytes = ProbeBytes.garbage(count: count, using: &generator)
                #expect(bytes.count == max(count, 5))
                #expect(!(20...23).contains(bytes[0]))
                #expect(bytes[0] < 0x80)
                #expect(bytes[1] != 0x03)
            }
        }
    }

    @Test(arguments: [
        ("[dm] bob: 1 2 3 xx", 10 as Int?),
        ("[dm -> bob] 1 2 3 xx", nil),
        ("[12:00:00] bob: hi", nil),
        ("[dm] bob:no-space", nil),
    ])
    func directMessageTextStartsAfterTheSendersName(line: String, offset: Int?) {
        let got = Array(line.utf8).withUnsafeBytes { ScriptedClientHandler.directMessageText($0) }
        #expect(got == offset)
    }
}

/// A random number generator with state (SplitMix64, seeded from the system's generator, so every run sees new
/// bytes). Not `SystemRandomNumberGenerator` itself: it has no stored properties, and passing such an empty generator
/// `inout` to a generic function (`ProbeBytes.garbage(count:using:)`) makes a ThreadSanitizer build write to an
/// invalid address and crash the whole test run (a Swift compiler bug: swiftlang/swift#66099).
private struct SplitMix64: RandomNumberGenerator {
    private var state = UInt64.random(in: .min ... .max)

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
