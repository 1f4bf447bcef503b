import ArgumentParser
import SecureChat

/// What several connections, rooms and users may use together (issue 24's floods and exhaustion).
struct SharedBudgetOptions: ParsableArguments {
    @Option(
        name: .customLong("address-rate"),
        help: """
            Lines per second all connections of one address (IPv6: one /64; its /48 gets 4 times as much) may \
            send together after login, burst twice that (0: no limit).
            """)
    var addressRate: Double = 20

    @Option(
        name: .customLong("address-byte-rate"),
        help: "Bytes per second (after sanitising) one address may send likewise, burst twice that (0: no limit).")
    var addressByteRate: Double = 32 * 1024

    @Option(
        name: .customLong("room-create-rate"),
        help: "New rooms one address (IPv6: one /64) may open per minute, after a burst of 5 (0: no limit).")
    var roomCreateRate: Double = 2

    @Option(
        name: .customLong("history-bytes"),
        help: "History kept per room, in bytes as delivered (the oldest lines go first past it or --history).")
    var historyBytes: Int = 64 * 1024

    @Option(
        name: .customLong("history-total-bytes"),
        help: "History kept in all rooms together, in bytes; past it the oldest lines of any room go first.")
    var historyTotalBytes: Int = 16 << 20

    func validate() throws {
        try OptionBounds.rate.check(addressRate, flag: "address-rate")
        try OptionBounds.rate.check(addressByteRate, flag: "address-byte-rate")
        try OptionBounds.rate.check(roomCreateRate, flag: "room-create-rate")
        try OptionBounds.zeroOrMore.check(historyBytes, flag: "history-bytes")
        try OptionBounds.zeroOrMore.check(historyTotalBytes, flag: "history-total-bytes")
    }

    func apply(to configuration: inout Configuration) {
        configuration.addressLinesPerSecond = addressRate
        configuration.addressBytesPerSecond = addressByteRate
        configuration.roomsCreatedPerMinute = roomCreateRate
        configuration.historyBytesPerRoom = historyBytes
        configuration.historyBytesTotal = historyTotalBytes
    }
}
