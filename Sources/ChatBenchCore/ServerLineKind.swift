/// What a line from the server is, as far as the benchmark cares (DESIGN.md, "The line protocol").
public enum ServerLineKind: Equatable, Sendable {
    /// `* Choose a username ...`: the server waits for a name.
    case prompt
    /// `* Welcome, NAME! ...`: logged in.
    case welcome
    /// `* pong`: the answer to `/ping`.
    case pong
    /// Any other `* ` notice (greeting, joins, leaves, history markers).
    case notice
    /// `! ...`: an error.
    case error
    /// `[...` a replayed history line or a direct message.
    case other
    /// `name: text`; the payload starts at this byte offset.
    case chat(textOffset: Int)

    /// Classifies a line (without its newline).
    public static func classify(_ line: UnsafeRawBufferPointer) -> ServerLineKind {
        guard let first = line.first else { return .other }
        switch first {
        case UInt8(ascii: "*"):
            if line.starts(with: "* pong".utf8), line.count == 6 { return .pong }
            if line.starts(with: "* Welcome, ".utf8) { return .welcome }
            if line.starts(with: "* Choose a username".utf8) { return .prompt }
            return .notice
        case UInt8(ascii: "!"):
            return .error
        case UInt8(ascii: "["):
            return .other
        default:
            // A username is at most 24 bytes and never contains ':' or ' '.
            let limit = min(line.count - 1, 25)
            var index = 0
            while index < limit {
                if line[index] == UInt8(ascii: ":") {
                    return line[index + 1] == UInt8(ascii: " ") ? .chat(textOffset: index + 2) : .other
                }
                index += 1
            }
            return .other
        }
    }
}
