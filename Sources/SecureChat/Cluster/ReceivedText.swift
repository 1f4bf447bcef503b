import NIOCore

/// Text another node wrote into the database, made safe to show here: one line, sanitised as a client's
/// input is (``TextSanitizer``), at most `maximumBytes` long, ending in exactly one `\n`. A node's own lines
/// come out unchanged; anything else (a line without its newline, two lines in one, escape sequences) cannot
/// merge with the next line a user sees or reach a terminal.
enum ReceivedText {
    /// Longest line taken from the database, in UTF-8 bytes (well above any `--max-line` a node accepts).
    static let maximumBytes = 65_536

    /// The line to deliver, or nil when nothing printable is left.
    static func line(_ text: String) -> ByteBuffer? {
        let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let clean = field(body)
        guard !clean.isEmpty else { return nil }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(clean.utf8.count + 1)
        buffer.writeString(clean)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// One field (an operator's name, a reason): sanitised and cut to `maximumBytes` at a character boundary.
    static func field(_ text: String) -> String {
        let clean = TextSanitizer.sanitize(text)
        guard clean.utf8.count > maximumBytes else { return clean }
        var cut = Substring(clean).prefix(maximumBytes)
        while cut.utf8.count > maximumBytes { cut.removeLast() }
        return String(cut)
    }
}

/// A room event as the cluster stores it (`securechat_events`: `kind`, `sender_name`, `body`), and a stored row
/// as this node shows it. What is read back is validated and sanitised: a chat line, a join or a leave only
/// from a valid name; every text through `ReceivedText`.
enum StoredEvent {
    /// The stored fields of an event: what happened and to whom, not how it is shown (each node renders it for
    /// each of its clients' formats).
    struct Row: Sendable, Equatable {
        let kind: String
        let senderName: String
        let body: String

        /// nil for an event that is not a room event (a reply to one user, a list).
        init?(_ event: ChatEvent) {
            switch event {
            case .said(let name, let text, _): (kind, senderName, body) = ("chat", name, text)
            case .joined(let name, _): (kind, senderName, body) = ("joined", name, "")
            case .left(let name, _, let text): (kind, senderName, body) = ("left", name, text)
            case .notice(let text): (kind, senderName, body) = ("notice", "", text)
            default: return nil
            }
        }
    }

    /// A stored row as an event of `room`; nil when there is nothing to show. `line` is the rendered line of a
    /// row of schema version 2 (kind empty).
    static func event(kind: String, senderName: String, body: String, line: String, room: RoomName) -> ChatEvent? {
        switch kind {
        case "chat":
            guard case .success(let name) = Username.validate(senderName) else { return nil }
            let text = ReceivedText.field(body)
            return text.isEmpty ? nil : .said(from: name.display, text: text, room: room)
        case "joined":
            guard case .success(let name) = Username.validate(senderName) else { return nil }
            return .joined(name: name.display, room: room)
        case "left":
            guard case .success(let name) = Username.validate(senderName) else { return nil }
            let text = ReceivedText.field(body)
            return text.isEmpty ? nil : .left(name: name.display, room: room, text: text)
        case "notice":
            let text = ReceivedText.field(body)
            return text.isEmpty ? nil : .notice(text)
        case "":
            return ReceivedText.line(line).map { .preformatted($0) }
        default:
            return nil
        }
    }

    /// A relayed direct message (`securechat_relays`, kind `dm`) as this node shows it: from a valid name, its
    /// text sanitised; a row without a sender (written by a node before schema version 6) is its rendered line.
    static func directMessage(sender: String, body: String) -> ChatEvent? {
        guard !sender.isEmpty else { return ReceivedText.line(body).map { .preformatted($0) } }
        guard case .success(let name) = Username.validate(sender) else { return nil }
        let text = ReceivedText.field(body)
        return text.isEmpty ? nil : .directMessage(from: name.display, text: text)
    }
}
