/// A logged-in user's lines: chat, or a command that the machine answers itself or turns into a hub request.
extension SessionStateMachine {
    /// A line from a logged-in user: a command if it starts with `/` (`//` sends a literal `/`), else chat.
    mutating func handle(_ text: String) -> [SessionAction] {
        if text.hasPrefix("//") { return [.request(.say(String(text.dropFirst())))] }
        if !text.hasPrefix("/") { return [.request(.say(text))] }
        switch Command.parse(text) {
        case .failure(let problem):
            return [.error(problem.description.capitalizedFirst + ".")]
        case .success(let command):
            return execute(command)
        }
    }

    private mutating func execute(_ command: Command) -> [SessionAction] {
        switch command {
        case .help:
            return Self.helpLines.map { .notice($0) }
        case .quit(let reason):
            return [.notice("Bye!")] + close(.quit(message: reason))
        case .join(let typed):
            guard let room = RoomName(parsing: typed) else {
                return [.error("Room names are # and 1-\(RoomName.maximumLength) of a-z, 0-9, _ and -.")]
            }
            return request(.join(room))
        case .users(let all): return request(.users(all: all))
        case .stats: return request(.stats)
        case .message(let target, let text): return request(.directMessage(to: target, text: text))
        case .leave: return request(.leave)
        case .rooms: return request(.rooms)
        case .whois(let target): return request(.whois(target))
        // Through the hub, so the answer comes after everything the hub sent this user before: a client (or
        // a test) can use /ping as a barrier.
        case .ping: return request(.ping)
        case .kick(let target, let reason): return request(.kick(target, reason: reason))
        case .ban(let target, let reason): return request(.ban(target, reason: reason))
        case .unban(let target): return request(.unban(target))
        case .bans(let page): return request(.bans(page: page ?? 1))
        case .ignore(let target): return request(.ignore(target))
        case .unignore(let target): return request(.unignore(target))
        case .account(let command): return execute(command)
        }
    }

    static let helpLines = [
        "Commands (case-insensitive):",
        "  /help                  this list",
        "  /users [all]           who is in your room (or everywhere); [plaintext] marks unencrypted links",
        "  /msg <user> <text>     a direct message to anyone online",
        "  /join <#room>          move to a room (created if new); /leave goes back to #lobby",
        "  /rooms                 the rooms and how many are in each",
        "  /whois <user>          room, connection time, transport, client certificate",
        "  /stats                 your messages, connection time and transport; server figures",
        "  /ping                  check your link: the server answers pong",
        "  /ignore [user]         stop seeing a user's lines and DMs (this session); alone, the list",
        "  /unignore <user>       see them again",
        "  /quit [reason]         leave",
        "Accounts (over TLS, on servers with accounts):",
        "  /register <password>   register the name you use (10-128 characters); /register cert binds your",
        "                         client certificate instead",
        "  /password <old> <new>  change it (quote an old password with spaces: \"old one\" new)",
        "  /cert add|list|del <fingerprint>  the client certificates that log you in",
        "  /unregister <password> give the name up (nobody may take it for 30 days)",
        "Operators:",
        "  /kick <user> [reason]  disconnect a user",
        "  /ban <user> [reason]   disconnect and ban their name and address",
        "  /ban <network> [reason] ban a network (203.0.113.0/24, 2001:db8::/48)",
        "  /unban <user|#n>       lift a ban (#n as /bans shows it);  /bans [page] lists them",
        "  /account drop <name>   delete an account;  /account reset <name> gives a one-time password",
        "Anything else is a chat line to your room. Start a line with // to send a literal /.",
    ]
}

extension String {
    fileprivate var capitalizedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
