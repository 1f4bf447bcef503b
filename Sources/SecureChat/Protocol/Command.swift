/// A line the user typed that starts with `/`, parsed.
public enum Command: Equatable, Sendable {
    case help
    case users(all: Bool)
    case stats
    case quit(reason: String?)
    case message(to: String, text: String)
    case join(room: String)
    case leave
    case rooms
    case whois(user: String)
    case ping
    case kick(user: String, reason: String?)
    case ban(user: String, reason: String?)
    case unban(target: String)
    /// `/bans [page]`.
    case bans(page: Int?)
    /// `/ignore [user]`: without a user, the list.
    case ignore(user: String?)
    case unignore(user: String)
    /// `/register <password>`, `/register cert`, `/password`, `/cert ...`, `/unregister`, `/account ...`: the
    /// commands of registered names. They carry passwords, so they are never logged or echoed.
    case account(AccountCommand)

    public enum AccountCommand: Equatable, Sendable {
        case register(password: String)
        case registerCertificate
        case changePassword(old: String, new: String)
        case addCertificate
        case listCertificates
        case deleteCertificate(fingerprint: String)
        case unregister(password: String)
        case drop(name: String)
        case reset(name: String)
    }

    /// Why a command line could not be parsed, worded for the user.
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case unknown(String)
        case usage(String)

        public var description: String {
            switch self {
            case .unknown(let name): return "unknown command /\(name); type /help for the list"
            case .usage(let usage): return "usage: \(usage)"
            }
        }
    }

    /// Parses a sanitised line that starts with `/`. Command names are case-insensitive.
    ///
    /// Words are cut at every U+0020, scalar by scalar: a space is not always a `Character` of its own (after a
    /// prepended concatenation mark such as U+0601, or U+0D4E, it belongs to the same grapheme), and a
    /// `Character` split would leave such a space inside a word.
    public static func parse(_ line: String) -> Result<Command, Problem> {
        precondition(line.hasPrefix("/"))
        let body = line.unicodeScalars.dropFirst()
        let nameEnd = body.firstIndex(of: " ") ?? body.endIndex
        let name = String(body[..<nameEnd]).lowercased()
        let rest = body[nameEnd...].drop(while: { $0 == " " })
        let (first, remainder) = splitWord(rest)
        let argument = first.map(String.init)
        let tail = remainder.isEmpty ? nil : String(remainder)

        switch name {
        case "help", "h", "?":
            return .success(.help)
        case "users", "who":
            if let argument, argument.lowercased() != "all" { return .failure(.usage("/users [all]")) }
            return .success(.users(all: argument != nil))
        case "stats":
            return .success(.stats)
        case "quit", "exit":
            return .success(.quit(reason: rest.isEmpty ? nil : String(rest)))
        case "msg", "dm", "tell":
            guard let argument, let tail else { return .failure(.usage("/msg <user> <text>")) }
            return .success(.message(to: argument, text: tail))
        case "join":
            guard let argument, tail == nil else { return .failure(.usage("/join <#room>")) }
            return .success(.join(room: argument))
        case "leave", "part":
            return .success(.leave)
        case "rooms", "list":
            return .success(.rooms)
        case "whois":
            guard let argument, tail == nil else { return .failure(.usage("/whois <user>")) }
            return .success(.whois(user: argument))
        case "ping":
            return .success(.ping)
        case "kick":
            guard let argument else { return .failure(.usage("/kick <user> [reason]")) }
            return .success(.kick(user: argument, reason: tail))
        case "ban":
            guard let argument else { return .failure(.usage("/ban <user> [reason]")) }
            return .success(.ban(user: argument, reason: tail))
        case "ignore":
            guard tail == nil else { return .failure(.usage("/ignore [user]")) }
            return .success(.ignore(user: argument))
        case "unignore":
            guard let argument, tail == nil else { return .failure(.usage("/unignore <user>")) }
            return .success(.unignore(user: argument))
        case "unban":
            guard let argument, tail == nil else { return .failure(.usage("/unban <user|address>")) }
            return .success(.unban(target: argument))
        case "bans":
            guard let argument else { return .success(.bans(page: nil)) }
            guard tail == nil, let page = Int(argument), page >= 1 else { return .failure(.usage("/bans [page]")) }
            return .success(.bans(page: page))
        case "register", "password", "cert", "unregister", "account":
            return parseAccount(name, rest: String(rest), argument: argument, tail: tail).map { .account($0) }
        default:
            return .failure(.unknown(String(String(body[..<nameEnd]).prefix(32))))
        }
    }

    private static func splitWord(
        _ text: Substring.UnicodeScalarView
    ) -> (Substring.UnicodeScalarView?, Substring.UnicodeScalarView) {
        guard !text.isEmpty else { return (nil, text) }
        let end = text.firstIndex(of: " ") ?? text.endIndex
        return (text[..<end], text[end...].drop(while: { $0 == " " }))
    }
}
