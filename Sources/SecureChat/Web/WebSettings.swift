import NIOCore

/// What the HTTP side of a listener serves and accepts (README.md, "Browsers and bots").
public struct WebSettings: Sendable {
    /// `--no-web` turns it off: every connection speaks the line protocol, and a request line is a bad name.
    public var enabled = true
    /// Origins whose pages may open a WebSocket here (`--web-origin`, repeatable), such as
    /// `https://chat.example.org`. Empty: only the server's own origin, the scheme of the port and the `Host` the
    /// browser asked for. A client that sends no `Origin` (a bot, not a browser) is not asked.
    public var allowedOrigins: [String] = []
    /// How long a silent new connection waits before it is greeted as a line-protocol client (see
    /// ``ProtocolSniffer``).
    public var detectionWindow: TimeAmount = .milliseconds(50)
    /// How often a WebSocket client is pinged; one that has not answered the last ping by the next is gone.
    public var pingInterval: TimeAmount = .seconds(30)
    /// Requests one HTTP connection may make (page, script, style and the upgrade are four).
    public var requestsPerConnection = 16

    public init() {}
}
