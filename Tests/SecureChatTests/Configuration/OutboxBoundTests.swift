import NIOCore
import Testing

@testable import SecureChat

/// `Configuration.validate` refuses an outbox that one line (or one history replay) could overflow, since such a
/// line would evict everyone it is sent to. The bound must hold in every format a client can speak: here every
/// event that carries a user's text is rendered at its longest, line and JSON, and measured against it.
@Suite("The outbox bound holds for the longest line in every wire format")
struct OutboxBoundTests {
    /// The longest texts sanitising can make of `maximumLineBytes` typed bytes: invalid bytes each become the
    /// three-byte U+FFFD; quotes and backslashes are escaped (once in a quit reason's line, again in JSON).
    static func worstTexts(typed bytes: Int) -> [String] {
        [
            String(repeating: "\u{FFFD}", count: bytes),
            String(repeating: "\"", count: bytes),
            String(repeating: "\\", count: bytes),
        ]
    }

    static func worstEvents(_ configuration: Configuration) -> [ChatEvent] {
        let name = String(repeating: "w", count: Username.maximumLength)
        let room = RoomName(parsing: "#" + String(repeating: "r", count: RoomName.maximumLength))!
        var events: [ChatEvent] = []
        for text in worstTexts(typed: configuration.maximumLineBytes) {
            events.append(.said(from: name, text: text, room: room))
            events.append(.directMessage(from: name, text: text))
            events.append(.directMessageSent(to: name, text: text))
        }
        // `/quit REASON`: the reason is what follows the command on one line.
        for reason in worstTexts(typed: configuration.maximumLineBytes - "/quit ".utf8.count) {
            let quit = CloseReason.quit(message: reason)
            events.append(.left(name: name, room: room, text: quit.leaveNotice(name: name, room: room)))
        }
        return events
    }

    @Test("default settings, and settings at the edge of what validate accepts, with the web on and off")
    func longestLinesFit() throws {
        var edge = Configuration()
        edge.maximumLineBytes = 8192
        edge.historyLines = 1
        for var configuration in [Configuration(), edge] {
            for webOn in [true, false] {
                configuration.web.enabled = webOn
                // The smallest outbox validate accepts for these settings.
                configuration.outboxBytes = max(configuration.longestServerLineBytes, configuration.longestReplayBytes)
                try configuration.validate()
                let formats: [WireFormat] = webOn ? [.line, .json] : [.line]
                for event in Self.worstEvents(configuration) {
                    for format in formats {
                        let (longest, mark, outbox) =
                            format == .json
                            ? (
                                configuration.longestJSONLineBytes, Configuration.jsonReplayMarkBytes,
                                configuration.jsonOutboxBytes
                            )
                            : (
                                configuration.longestServerLineBytes, Configuration.replayMarkBytes,
                                configuration.outboxBytes
                            )
                        let live = format.render(event).readableBytes
                        #expect(live <= longest, "\(format), web \(webOn): \(live) > \(longest)")
                        let replayed = format.render(.replayed(event, at: .now())).readableBytes
                        #expect(replayed <= longest + mark, "\(format) replayed, web \(webOn): \(replayed)")
                        // A whole replay of such lines, framed, fits the outbox of a client of that format.
                        let framing =
                            format.render(
                                .historyStart(
                                    room: RoomName(parsing: "#" + String(repeating: "r", count: 32))!,
                                    count: configuration.historyLines)
                            ).readableBytes
                            + format.render(.historyEnd(room: .lobby)).readableBytes
                        #expect(configuration.historyLines * replayed + framing <= outbox, "\(format), web \(webOn)")
                    }
                }
            }
        }
    }
}
