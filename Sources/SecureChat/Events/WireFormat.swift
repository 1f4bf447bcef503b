import NIOCore

/// How a member's connection speaks: the line protocol (`nc`, `openssl s_client`) or JSON objects (WebSocket).
public enum WireFormat: Sendable, Hashable {
    case line
    case json

    /// The event as this format sends it: one buffer, terminated by `\n` (JSON objects never contain a raw
    /// newline, so the WebSocket writer cuts frames at them).
    public func render(_ event: ChatEvent) -> ByteBuffer {
        switch self {
        case .line: LineRenderer.render(event)
        case .json: JSONRenderer.render(event)
        }
    }
}

/// One event rendered at most once per format: what a fan-out hands its recipients.
struct RenderedEvent {
    let event: ChatEvent
    private var line: ByteBuffer?
    private var json: ByteBuffer?

    init(_ event: ChatEvent) {
        self.event = event
    }

    /// Starts with the line rendering already made (it was needed to size the history entry).
    init(_ event: ChatEvent, line: ByteBuffer) {
        self.event = event
        self.line = line
    }

    mutating func buffer(for format: WireFormat) -> ByteBuffer {
        switch format {
        case .line:
            if let line { return line }
            let rendered = LineRenderer.render(event)
            line = rendered
            return rendered
        case .json:
            if let json { return json }
            let rendered = JSONRenderer.render(event)
            json = rendered
            return rendered
        }
    }
}
