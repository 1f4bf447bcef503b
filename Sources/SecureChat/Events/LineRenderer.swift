import NIOCore

/// Renders events as the line protocol: README.md's "The protocol", byte for byte as it was before events
/// existed (`* ` notices, `! ` errors, `name: text` chat, `[dm] ` and `[HH:MM:SS] ` marks).
public enum LineRenderer {
    public static func render(_ event: ChatEvent) -> ByteBuffer {
        switch event {
        case .error(let text): return ServerLine.error(text)
        case .said(let name, let text, _): return ServerLine.chat(from: name, text)
        case .directMessage(let name, let text): return ServerLine.directMessage(from: name, text)
        case .directMessageSent(let name, let text): return ServerLine.directMessageSent(to: name, text)
        case .replayed(let event, let time): return ServerLine.replayed(render(event), at: time)
        case .pong: return pong
        case .preformatted(let line): return line
        case .notice, .welcome, .entered, .joined, .left, .historyStart, .historyEnd, .users, .rooms,
            .passwordRequired:
            return ServerLine.notice(noticeText(event)!)
        }
    }

    /// The text of an event the line protocol shows as a `* ` notice; nil for the others. The cluster stores
    /// joins and leaves as this text.
    public static func noticeText(_ event: ChatEvent) -> String? {
        switch event {
        case .notice(let text), .left(_, _, let text), .passwordRequired(_, let text): return text
        case .welcome(let name, let room, let others, let account):
            var welcome =
                switch account {
                case nil: "Welcome, \(name)!"
                case .password: "Welcome back, \(name)!"
                case .certificate: "Welcome back, \(name) (certificate)."
                }
            welcome += " You are in \(room) with \(others) other\(others == 1 ? "" : "s")."
            welcome += " Type /help for commands."
            return welcome
        case .entered(let room, let members): return "You joined \(room) (\(members) here)."
        case .joined(let name, let room): return "\(name) joined \(room)"
        case .historyStart(let room, let count): return "Last \(count) lines of \(room):"
        case .historyEnd: return "End of history."
        case .users(let list): return describe(list)
        case .rooms(let list): return describe(list)
        case .pong: return "pong"
        case .error, .said, .directMessage, .directMessageSent, .replayed, .preformatted: return nil
        }
    }

    /// Made once: `/ping` is a client's barrier and may come often.
    private static let pong = ServerLine.notice("pong")

    /// `/users`: `2 users in #lobby: alice [op] [plaintext], bob`.
    public static func describe(_ list: UserList) -> String {
        var names = list.entries.map { user -> String in
            var entry = user.name
            if list.room == nil { entry += " \(user.room)" }
            if user.isOperator { entry += " [op]" }
            if !user.transport.isEncrypted { entry += " [plaintext]" }
            return entry
        }.joined(separator: ", ")
        if list.total > list.entries.count { names += ", ... and \(list.total - list.entries.count) more" }
        let count = "\(list.total) user\(list.total == 1 ? "" : "s")"
        return "\(count) \(list.room.map { "in \($0)" } ?? "online"): \(names)"
    }

    /// `/rooms`: `2 rooms: #dev (1), #lobby (2)`.
    public static func describe(_ list: RoomList) -> String {
        var text = list.entries.map { "\($0.name) (\($0.members))" }.joined(separator: ", ")
        if list.total > list.entries.count { text += ", ... and \(list.total - list.entries.count) more" }
        return "\(list.total) room\(list.total == 1 ? "" : "s"): \(text)"
    }
}
