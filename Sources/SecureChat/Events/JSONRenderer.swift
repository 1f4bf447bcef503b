import NIOCore

/// Renders events as JSON objects, one per line: the WebSocket protocol of README.md's "Browsers and bots".
/// Every object has a `type`; fields are added over time, never renamed, so a client ignores what it does not
/// know.
public enum JSONRenderer {
    public static func render(_ event: ChatEvent) -> ByteBuffer {
        var writer = JSONWriter()
        write(event, into: &writer)
        return writer.finish()
    }

    private static func write(_ event: ChatEvent, into json: inout JSONWriter) {
        switch event {
        case .notice(let text):
            json.field("type", "notice")
            json.field("text", text)
        case .error(let text):
            json.field("type", "error")
            json.field("text", text)
        case .welcome(let name, let room, let others, let account):
            json.field("type", "welcome")
            json.field("name", name)
            json.field("room", room.value)
            json.field("others", others)
            json.field("account", account?.description)
            json.field("text", LineRenderer.noticeText(event)!)
        case .entered(let room, let members):
            json.field("type", "entered")
            json.field("room", room.value)
            json.field("members", members)
        case .said(let name, let text, let room):
            json.field("type", "message")
            json.field("room", room.value)
            json.field("from", name)
            json.field("text", text)
        case .joined(let name, let room):
            json.field("type", "joined")
            json.field("room", room.value)
            json.field("name", name)
        case .left(let name, let room, let text):
            json.field("type", "left")
            json.field("room", room.value)
            json.field("name", name)
            json.field("text", text)
        case .directMessage(let name, let text):
            json.field("type", "dm")
            json.field("from", name)
            json.field("text", text)
        case .directMessageSent(let name, let text):
            json.field("type", "dm_sent")
            json.field("to", name)
            json.field("text", text)
        case .historyStart(let room, let count):
            json.field("type", "history")
            json.field("room", room.value)
            json.field("count", count)
        case .historyEnd(let room):
            json.field("type", "history_end")
            json.field("room", room.value)
        case .replayed(let inner, let time):
            write(inner, into: &json)
            json.field("time", time.iso8601)
            json.field("replayed", true)
        case .users(let list):
            json.field("type", "users")
            json.field("room", list.room?.value)
            json.field("total", list.total)
            json.field("users", objects: list.entries) { user, entry in
                user.field("name", entry.name)
                user.field("room", entry.room.value)
                user.field("operator", entry.isOperator)
                user.field("encrypted", entry.transport.isEncrypted)
            }
        case .rooms(let list):
            json.field("type", "rooms")
            json.field("total", list.total)
            json.field("rooms", objects: list.entries) { room, entry in
                room.field("name", entry.name.value)
                room.field("members", entry.members)
            }
        case .whois(let who, _):
            json.field("type", "whois")
            json.field("name", who.name)
            json.field("room", who.room.value)
            json.field("operator", who.isOperator)
            json.field("encrypted", who.transport.isEncrypted)
            json.field("transport", who.transport.description)
            json.field("connected_since", who.connectedAt.iso8601)
            json.field("certificate", who.certificateFingerprint)
            json.field("account", who.account?.description)
            json.field("text", LineRenderer.noticeText(event)!)
        case .stats(let report, let connectedAt, let transport):
            json.field("type", "stats")
            json.field("sent", report.messagesSent)
            json.field("connected_since", connectedAt.iso8601)
            json.field("transport", transport.description)
            json.field("encrypted", transport.isEncrypted)
            json.field("users_online", report.server.usersOnline)
            json.field("rooms", report.server.rooms)
            json.field("messages", report.server.messages)
            json.field("up_since", report.server.startedAt.iso8601)
            json.field("node", report.node?.name)
            json.field("nodes_up", report.node?.nodesUp)
            json.field(
                "text",
                LineRenderer.describe(report, connectedAt: connectedAt, transport: transport).joined(separator: "\n"))
        case .pong:
            json.field("type", "pong")
        case .passwordRequired(let name, let text):
            json.field("type", "password_required")
            json.field("name", name)
            json.field("text", text)
        case .preformatted(var line):
            // The line as another node rendered it, without its terminator.
            if line.readableBytesView.last == UInt8(ascii: "\n") { line.moveWriterIndex(to: line.writerIndex - 1) }
            json.field("type", "line")
            json.field("text", String(buffer: line))
        }
    }
}
