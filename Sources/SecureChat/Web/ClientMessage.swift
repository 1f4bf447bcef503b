import Foundation
import NIOCore

/// One JSON object a WebSocket client sends, and the line-protocol line it stands for.
///
/// Every request becomes the line a terminal user would type, and from there takes the same path: the
/// sanitiser, the length limit, the rate limits, bans and the look-alike rules of names all apply as they do to
/// `nc`. So the JSON protocol cannot do anything the line protocol cannot, and nothing is checked twice.
struct ClientMessage: Decodable {
    let type: String
    let name: String?
    let password: String?
    let text: String?
    let to: String?
    let room: String?
    let line: String?
    let all: Bool?
    let reason: String?

    /// The line for `frame` with what it is meant as (a name, a password; nil for anything else), or why there is
    /// none (worded for the client).
    static func line(from frame: ByteBuffer) -> Result<(line: String, role: LineRole?), Problem> {
        let message: ClientMessage
        do {
            message = try JSONDecoder().decode(ClientMessage.self, from: Data(frame.readableBytesView))
        } catch DecodingError.keyNotFound, DecodingError.typeMismatch {
            return .failure(.invalid("Every message is a JSON object with a \"type\" string."))
        } catch {
            return .failure(.invalid("That was not a JSON object."))
        }
        return message.translated().map { (line: $0, role: message.role) }
    }

    private var role: LineRole? {
        switch type {
        case "password": .password
        case "login": .login
        default: nil
        }
    }

    enum Problem: Error, Equatable {
        case invalid(String)
    }

    private func translated() -> Result<String, Problem> {
        func required(_ field: String?, _ fieldName: String) -> Result<String, Problem> {
            guard let field, !field.isEmpty else {
                return .failure(.invalid("A \"\(type)\" message needs a \"\(fieldName)\" string."))
            }
            return .success(field)
        }
        switch type {
        case "login": return required(name, "name")
        case "password": return required(password, "password")
        case "say":
            // A chat line that starts with `/` is sent as `//`, as a terminal user would type it.
            return required(text, "text").map { $0.hasPrefix("/") ? "/" + $0 : $0 }
        case "dm":
            return required(to, "to").flatMap { to in
                // A name never holds a space: one here would shift the text into the name.
                guard !to.contains(" ") else { return .failure(.invalid("No user name contains a space.")) }
                return required(text, "text").map { "/msg \(to) \($0)" }
            }
        case "join": return required(room, "room").map { "/join \($0)" }
        case "leave": return .success("/leave")
        case "users": return .success(all == true ? "/users all" : "/users")
        case "rooms": return .success("/rooms")
        case "ping": return .success("/ping")
        case "quit": return .success(reason.map { "/quit \($0)" } ?? "/quit")
        case "command":
            return required(line, "line").flatMap { line in
                guard line.hasPrefix("/"), !line.hasPrefix("//") else {
                    return .failure(.invalid("A \"command\" line starts with a single /; chat goes in \"say\"."))
                }
                return .success(line)
            }
        default:
            return .failure(.invalid("Unknown message type; README.md lists them."))
        }
    }
}
