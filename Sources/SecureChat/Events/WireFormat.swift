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
