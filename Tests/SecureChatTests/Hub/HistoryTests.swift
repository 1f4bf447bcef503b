import NIOCore
import Testing

@testable import SecureChat  // History.Entry.init is internal

@Suite("History ring buffer")
struct HistoryTests {
    private func entry(_ number: Int) -> History.Entry {
        History.Entry(time: Timestamp(secondsSinceEpoch: number), line: ByteBuffer(string: "line \(number)\n"))
    }

    private func numbers(_ history: History) -> [Int] {
        history.entries.map(\.time.secondsSinceEpoch)
    }

    @Test("keeps lines oldest first while under capacity")
    func order() {
        var history = History(capacity: 5)
        #expect(history.isEmpty)
        for number in 1...3 { history.append(entry(number)) }
        #expect(numbers(history) == [1, 2, 3])
        #expect(history.count == 3)
        #expect(history.entries.map { String(buffer: $0.line) } == ["line 1\n", "line 2\n", "line 3\n"])
    }

    @Test("wraps around: the newest `capacity` lines, oldest first, at every fill level")
    func wrapAround() {
        let capacity = 5
        var history = History(capacity: capacity)
        for number in 1...23 {
            history.append(entry(number))
            let expected = Array(max(1, number - capacity + 1)...number)
            #expect(numbers(history) == expected, "after \(number) appends")
            #expect(history.count == expected.count)
        }
    }

    @Test("the 51st line of a 50-line history pushes out the oldest")
    func fiftyFirst() {
        var history = History(capacity: 50)
        for number in 1...51 { history.append(entry(number)) }
        #expect(numbers(history) == Array(2...51))
    }

    @Test("capacity 0 keeps nothing")
    func capacityZero() {
        var history = History(capacity: 0)
        for number in 1...3 { history.append(entry(number)) }
        #expect(history.isEmpty)
        #expect(history.entries.isEmpty)
    }

    @Test("capacity 1 keeps only the newest line")
    func capacityOne() {
        var history = History(capacity: 1)
        for number in 1...4 {
            history.append(entry(number))
            #expect(numbers(history) == [number])
        }
    }

    @Test("forEach visits the same entries as `entries`")
    func forEachMatches() {
        var history = History(capacity: 4)
        for number in 1...7 { history.append(entry(number)) }
        var visited: [Int] = []
        history.forEach { visited.append($0.time.secondsSinceEpoch) }
        #expect(visited == [4, 5, 6, 7])
    }
}
