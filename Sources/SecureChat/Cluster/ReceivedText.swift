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

/// A stored event as this node shows it: a chat line only from a valid name, a notice, or (a row of schema
/// version 2) the line as it was stored; every text sanitised. nil when there is nothing to show.
enum StoredEvent {
    static func event(kind: String, senderName: String, body: String, line: String, room: RoomName) -> ChatEvent? {
        switch kind {
        case "chat":
            guard case .success(let name) = Username.validate(senderName) else { return nil }
            let text = ReceivedText.field(body)
            return text.isEmpty ? nil : .said(from: name.display, text: text, room: room)
        case "notice":
            let text = ReceivedText.field(body)
            return text.isEmpty ? nil : .notice(text)
        case "":
            return ReceivedText.line(line).map { .preformatted($0) }
        default:
            return nil
        }
    }
}
