/// What a line from an IRC server is, as far as the benchmark cares (RFC 2812 message format:
/// `[":" prefix " "] command [" " params] [" :" trailing]`).
public enum IRCLineKind: Equatable, Sendable {
    /// `001` RPL_WELCOME: registration is complete.
    case registered
    /// `366` RPL_ENDOFNAMES: the answer to a JOIN is complete, so the client is in the channel.
    case endOfNames
    /// `PING :token`: the server checks that the client is alive; the token starts at this byte offset.
    case ping(tokenOffset: Int)
    /// `PONG`: the answer to the client's own `PING`.
    case pong
    /// `:nick!user@host PRIVMSG #channel :text`; the text starts at this byte offset.
    case chat(textOffset: Int)
    /// `ERROR ...`, or an error numeric (400-599) other than 422 (no MOTD, which is not a failure).
    case error
    /// Anything else: the other numerics, JOIN and PART of other users, NOTICE, MODE.
    case other

    /// Classifies a line (without its `\r\n`). Never reads outside `line`.
    public static func classify(_ line: UnsafeRawBufferPointer) -> IRCLineKind {
        var index = 0
        if line.first == UInt8(ascii: ":") {
            // The prefix (server or nick!user@host) runs to the first space.
            guard let space = Self.find(UInt8(ascii: " "), in: line, from: 1) else { return .other }
            index = space + 1
        }
        let commandStart = index
        let commandEnd = Self.find(UInt8(ascii: " "), in: line, from: commandStart) ?? line.count
        let command = UnsafeRawBufferPointer(rebasing: line[commandStart..<commandEnd])
        if let numeric = Self.numeric(command) {
            switch numeric {
            case 1: return .registered
            case 366: return .endOfNames
            case 422: return .other
            case 400..<600: return .error
            default: return .other
            }
        }
        if command.elementsEqual("PRIVMSG".utf8) {
            // The text is the trailing parameter: after the first " :" past the command.
            guard let colon = Self.find(UInt8(ascii: ":"), afterSpaceIn: line, from: commandEnd) else { return .other }
            return .chat(textOffset: colon + 1)
        }
        if command.elementsEqual("PING".utf8) {
            var token = min(commandEnd + 1, line.count)
            if token < line.count, line[token] == UInt8(ascii: ":") { token += 1 }
            return .ping(tokenOffset: token)
        }
        if command.elementsEqual("PONG".utf8) { return .pong }
        if command.elementsEqual("ERROR".utf8) { return .error }
        return .other
    }

    /// A three-digit numeric reply's number.
    private static func numeric(_ command: UnsafeRawBufferPointer) -> Int? {
        guard command.count == 3 else { return nil }
        var value = 0
        for byte in command {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func find(_ byte: UInt8, in line: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < line.count {
            if line[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// The offset of the first `:` that follows a space, at or after `start`: where the trailing parameter begins.
    private static func find(_ byte: UInt8, afterSpaceIn line: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = max(start, 1)
        while index < line.count {
            if line[index] == byte, line[index - 1] == UInt8(ascii: " ") { return index }
            index += 1
        }
        return nil
    }
}
