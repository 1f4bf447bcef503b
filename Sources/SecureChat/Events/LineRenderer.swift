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
        case .stats(let report, let connectedAt, let transport):
            // Two or three notices, in one buffer.
            var lines = ByteBuffer()
            for text in describe(report, connectedAt: connectedAt, transport: transport) {
                var line = ServerLine.notice(text)
                lines.writeBuffer(&line)
            }
            return lines
        case .notice, .welcome, .entered, .joined, .left, .historyStart, .historyEnd, .users, .rooms, .whois,
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
        case .whois(let who, let showsAccount): return describe(who, showsAccount: showsAccount)
        case .pong: return "pong"
        case .error, .said, .directMessage, .directMessageSent, .replayed, .stats, .preformatted: return nil
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

    /// `/whois`: `bob (operator): in #lobby, connected since 2026-12-07 15:00:01 UTC, over plaintext; not
    /// registered.` (the registration only where `showsAccount`).
    public static func describe(_ who: WhoisListing, showsAccount: Bool) -> String {
        var line = "\(who.name)\(who.isOperator ? " (operator)" : ""): in \(who.room),"
        line += " connected since \(who.connectedAt.dateTime), over \(who.transport)"
        if let fingerprint = who.certificateFingerprint { line += ", client certificate SHA-256 \(fingerprint)" }
        if showsAccount {
            switch who.account {
            case nil: line += "; not registered"
            case .password: line += "; registered, logged in with a password"
            case .certificate: line += "; registered, logged in with a client certificate"
            }
        }
        return line + "."
    }

    /// `/stats`: the asker's messages, connection time and transport; the server's figures; in a cluster, the
    /// node. One notice each.
    public static func describe(_ report: StatisticsReport, connectedAt: Timestamp, transport: Transport) -> [String] {
        let now = report.now.secondsSinceEpoch
        let sent = report.messagesSent
        var mine = "You: \(sent) message\(sent == 1 ? "" : "s") sent, connected since \(connectedAt.dateTime)"
        mine += " (\(Timestamp.describe(seconds: now - connectedAt.secondsSinceEpoch))), over \(transport)."
        let server = report.server
        var line = "Server: \(server.usersOnline) user\(server.usersOnline == 1 ? "" : "s") online"
        line += " in \(server.rooms) room\(server.rooms == 1 ? "" : "s"),"
        line += " \(server.messages) message\(server.messages == 1 ? "" : "s") relayed,"
        line += " up \(Timestamp.describe(seconds: now - server.startedAt.secondsSinceEpoch))."
        guard let node = report.node else { return [mine, line] }
        let cluster = "Cluster: you are on node \(node.name); \(node.nodesUp) node\(node.nodesUp == 1 ? "" : "s") up."
        return [mine, line, cluster]
    }

    /// `/rooms`: `2 rooms: #dev (1), #lobby (2)`.
    public static func describe(_ list: RoomList) -> String {
        var text = list.entries.map { "\($0.name) (\($0.members))" }.joined(separator: ", ")
        if list.total > list.entries.count { text += ", ... and \(list.total - list.entries.count) more" }
        return "\(list.total) room\(list.total == 1 ? "" : "s"): \(text)"
    }
}
