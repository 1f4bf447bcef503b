import Testing

@testable import ChatBenchCore

@Suite("Per-sender stream check")
struct StreamCheckTests {
    @Test func inOrderStreamIsPerfect() {
        var check = StreamCheck(expected: 100)
        for sequence in 0..<100 { check.record(sequence) }
        #expect(check.unique == 100)
        #expect(check.missing == 0)
        #expect(check.duplicates == 0)
        #expect(check.outOfOrder == 0)
    }

    @Test func duplicateIsCountedOnceAndNotAsReordering() {
        var check = StreamCheck(expected: 3)
        for sequence in [0, 1, 1, 2] { check.record(sequence) }
        #expect(check.duplicates == 1)
        #expect(check.outOfOrder == 0)
        #expect(check.missing == 0)
    }

    @Test func gapIsMissingAndLateArrivalIsOutOfOrder() {
        var check = StreamCheck(expected: 4)
        for sequence in [0, 2, 1] { check.record(sequence) }
        // 2 jumped ahead of 1, then 1 came late: two reorderings; 3 never came.
        #expect(check.outOfOrder == 2)
        #expect(check.missing == 1)
        #expect(check.unique == 3)
    }

    @Test func outOfRangeSequencesAreNotCountedAsMessages() {
        var check = StreamCheck(expected: 2)
        check.record(-1)
        check.record(2)
        check.record(0)
        #expect(check.outOfRange == 2)
        #expect(check.unique == 1)
        #expect(check.missing == 1)
    }

    @Test func bitsetCrossesWordBoundaries() {
        var check = StreamCheck(expected: 130)
        for sequence in 0..<130 { check.record(sequence) }
        check.record(64)
        check.record(129)
        #expect(check.duplicates == 2)
        #expect(check.missing == 0)
    }
}

@Suite("Receiver ledger and tally: expected vs received")
struct ReceiverLedgerTests {
    @Test func nonSenderExpectsEveryMessageOfEverySender() {
        var ledger = ReceiverLedger(senders: 3, messagesPerSender: 10, ownSender: nil)
        for sender in 0..<3 { for sequence in 0..<10 { ledger.record(sender: sender, sequence: sequence) } }
        let tally = ledger.tally
        #expect(tally.expected == 30)
        #expect(tally.received == 30)
        #expect(tally.isPerfect)
    }

    @Test func senderDoesNotExpectItsOwnMessagesAndFlagsAnEcho() {
        var ledger = ReceiverLedger(senders: 2, messagesPerSender: 5, ownSender: 1)
        #expect(ledger.expectedCount == 5)
        for sequence in 0..<5 { ledger.record(sender: 0, sequence: sequence) }
        #expect(ledger.tally.isPerfect)
        ledger.record(sender: 1, sequence: 0)  // the server echoed our own line
        #expect(ledger.tally.unexpected == 1)
        #expect(!ledger.tally.isPerfect)
    }

    @Test func aReceiverExpectsOnlyTheSendersOfItsRoom() {
        // Four senders in two rooms (sender i in room i % 2); this receiver is in room 1.
        var ledger = ReceiverLedger(senders: 4, messagesPerSender: 3, ownSender: nil, hears: { $0 % 2 == 1 })
        #expect(ledger.expectedCount == 6)
        for sender in [1, 3] { for sequence in 0..<3 { ledger.record(sender: sender, sequence: sequence) } }
        #expect(ledger.tally.isPerfect)
        ledger.record(sender: 2, sequence: 0)  // a line of the other room leaked in
        #expect(ledger.tally.unexpected == 1)
        #expect(!ledger.tally.isPerfect)
    }

    @Test func fanoutOverRoomsCountsEachRoomsMembers() throws {
        // 7 clients over 3 rooms: rooms of 3, 2 and 2; senders 0 and 1 are in rooms 0 and 1.
        let scenario = try FanoutScenario(clients: 7, senders: 2, messages: 10, bytes: 16, rooms: 3)
        #expect((0..<3).map(scenario.members(of:)) == [3, 2, 2])
        #expect(scenario.expectedDeliveries == 10 * 2 + 10 * 1)
        #expect(throws: BenchError.self) { try FanoutScenario(clients: 5, senders: 1, messages: 1, bytes: 1, rooms: 3) }
    }

    @Test func unknownSenderIsUnexpected() {
        var ledger = ReceiverLedger(senders: 1, messagesPerSender: 1, ownSender: nil)
        ledger.record(sender: 7, sequence: 0)
        ledger.record(sender: 0, sequence: 0)
        #expect(ledger.tally.unexpected == 1)
        #expect(ledger.tally.received == 2)
    }

    @Test func missingDuplicatesAndReorderingAddUpAcrossReceivers() {
        var first = ReceiverLedger(senders: 1, messagesPerSender: 3, ownSender: nil)
        for sequence in [0, 0, 1, 2] { first.record(sender: 0, sequence: sequence) }
        var second = ReceiverLedger(senders: 1, messagesPerSender: 3, ownSender: nil)
        for sequence in [1, 0] { second.record(sender: 0, sequence: sequence) }
        var total = first.tally
        total.add(second.tally)
        #expect(total.expected == 6)
        #expect(total.received == 6)
        #expect(total.duplicates == 1)
        #expect(total.missing == 1)
        #expect(total.outOfOrder == 2)
        #expect(!total.isPerfect)
    }

    @Test func fanoutExpectsEveryMessageAtEveryOtherClient() throws {
        let scenario = try FanoutScenario(clients: 200, senders: 10, messages: 1000, bytes: 64)
        #expect(scenario.expectedDeliveries == 1_990_000)
    }
}
