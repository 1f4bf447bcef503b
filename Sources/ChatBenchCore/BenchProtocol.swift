import NIOCore

/// The protocol chatbench speaks to a server (`--proto`): securechatd's line protocol, or IRC, so that the
/// same scenarios run against IRC servers (ngIRCd, InspIRCd: bench/peers.sh). What differs between the two,
/// the words on the wire, is here and in ``IRCLineKind``; the scenarios never ask which one they speak.
///
/// | | line | IRC |
/// | --- | --- | --- |
/// | log in | answer the prompt with the name, wait for `* Welcome` | `NICK`/`USER`, wait for `001`, `JOIN #lobby`, wait for `366` |
/// | barrier | `/ping` ... `* pong` | `PING :barrier` ... `PONG` |
/// | send | `text` | `PRIVMSG #lobby :text` |
/// | receive | `name: text` | `:nick!user@host PRIVMSG #lobby :text` |
/// | other room | `/join ROOM` | `PART #lobby`, `JOIN ROOM` |
///
/// Neither server sends a chat line back to its sender (IRC only does with the IRCv3 `echo-message`
/// capability, which chatbench does not ask for).
public enum BenchProtocol: String, Sendable, CaseIterable {
    case line
    case irc

    /// The IRC channel every client joins at login: what the line protocol's lobby is.
    public static let lobby = "#lobby"

    /// What a line from the server means to a benchmark client, in either protocol.
    enum LineKind: Equatable {
        /// Line protocol: the server waits for a name.
        case prompt
        /// IRC: `001`, registered; the client joins the lobby next.
        case registered
        /// Logged in: `* Welcome` (line) or `366` after joining the lobby (IRC).
        case welcome
        /// The answer to a barrier.
        case pong
        /// IRC: the server's `PING`; the token to send back starts at this offset.
        case serverPing(tokenOffset: Int)
        /// A chat line; its text starts at this offset.
        case chat(textOffset: Int)
        /// An error line (`! ...`, `ERROR`, an error numeric).
        case error
        case other
    }

    func classify(_ line: UnsafeRawBufferPointer) -> LineKind {
        switch self {
        case .line:
            switch ServerLineKind.classify(line) {
            case .chat(let offset): return .chat(textOffset: offset)
            case .prompt: return .prompt
            case .welcome: return .welcome
            case .pong: return .pong
            case .error: return .error
            case .notice, .other: return .other
            }
        case .irc:
            switch IRCLineKind.classify(line) {
            case .chat(let offset): return .chat(textOffset: offset)
            case .registered: return .registered
            case .endOfNames: return .welcome
            case .pong: return .pong
            case .ping(let offset): return .serverPing(tokenOffset: offset)
            case .error: return .error
            case .other: return .other
            }
        }
    }

    /// What the client says as soon as it is connected (IRC registration); `nil` if it waits for the server.
    func greeting(name: String) -> String? {
        switch self {
        case .line: return nil
        case .irc: return "NICK \(name)\r\nUSER \(name) 0 * :\(name)\r\n"
        }
    }

    /// The answer to the line protocol's prompt.
    func nameLine(_ name: String) -> String { "\(name)\n" }

    /// IRC, once registered: into the lobby.
    var lobbyJoin: String { "JOIN \(Self.lobby)\r\n" }

    /// A barrier: everything the server queued for this client before it arrives before its answer.
    var barrier: String {
        switch self {
        case .line: return "/ping\n"
        case .irc: return "PING :barrier\r\n"
        }
    }

    /// The answer to an IRC server's `PING` with this token.
    func pong(token: UnsafeRawBufferPointer) -> String {
        "PONG :\(String(decoding: token, as: UTF8.self))\r\n"
    }

    /// Leaves room `from` for room `to`.
    func move(from: String, to: String) -> String {
        switch self {
        case .line: return "/join \(to)\n"
        case .irc: return "PART \(from)\r\nJOIN \(to)\r\n"
        }
    }

    /// What a probe of the `handshakes` scenario sends to have the server answer with one line. The line
    /// protocol greets by itself; an IRC server says nothing before registration, but answers a `PING` (with
    /// `PONG`, or `451` not registered).
    var probeGreeting: String? {
        switch self {
        case .line: return nil
        case .irc: return "PING :probe\r\n"
        }
    }

    /// Appends one benchmark message, as the chat line that sends it to `room`.
    func writeMessage(_ payload: BenchPayload, size: Int, room: String, into buffer: inout ByteBuffer) {
        switch self {
        case .line:
            payload.write(into: &buffer, size: size)
        case .irc:
            buffer.writeString("PRIVMSG ")
            buffer.writeString(room)
            buffer.writeString(" :")
            payload.writeText(into: &buffer, size: size)
            buffer.writeString("\r\n")
        }
    }

    /// Bytes a message adds beyond its text, to size buffers.
    func overhead(room: String) -> Int {
        switch self {
        case .line: return 1
        case .irc: return room.utf8.count + 12
        }
    }
}
