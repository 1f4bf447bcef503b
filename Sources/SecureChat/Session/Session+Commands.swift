import NIOCore

extension Session {
    /// A line from a logged-in user: a command if it starts with `/` (`//` sends a literal `/`), else chat.
    func handle(_ text: String, state: inout State) async {
        if text.hasPrefix("//") || !text.hasPrefix("/") {
            let chat = text.hasPrefix("//") ? String(text.dropFirst()) : text
            if configuration.logMessages { logger.info("chat", metadata: ["room": "\(state.room)", "text": "\(chat)"]) }
            await hub.say(info.id, chat)
            return
        }
        switch Command.parse(text) {
        case .failure(let problem):
            send(ServerLine.error(problem.description.capitalizedFirst + "."))
        case .success(let command):
            await execute(command, state: &state)
        }
    }

    private func execute(_ command: Command, state: inout State) async {
        switch command {
        case .help:
            for line in Self.helpLines { send(ServerLine.notice(line)) }
        case .users(let all):
            await listUsers(all: all, room: state.room)
        case .stats:
            await showStatistics()
        case .quit(let reason):
            send(ServerLine.notice("Bye!"))
            let why = reason.map { "quit: \($0)" } ?? "quit"
            await hub.disconnect(info.id, reason: why)
            state.closeReason = why
        case .message(let target, let text):
            if configuration.logMessages { logger.info("direct message", metadata: ["to": "\(target)", "text": "\(text)"]) }
            switch await hub.directMessage(from: info.id, to: target, text) {
            case .sent: break
            case .noSuchUser: send(ServerLine.error("No user named \(target) is online."))
            case .toSelf: send(ServerLine.error("You cannot send a direct message to yourself."))
            }
        case .join(let typed):
            guard let room = RoomName(parsing: typed) else {
                send(ServerLine.error("Room names are # and 1-\(RoomName.maximumLength) of a-z, 0-9, _ and -."))
                return
            }
            switch await hub.join(info.id, room: room) {
            case .joined: state.room = room
            case .alreadyThere: send(ServerLine.error("You are already in \(room)."))
            case .tooManyRooms: send(ServerLine.error("The server has too many rooms; join an existing one (/rooms)."))
            }
        case .leave:
            switch await hub.leaveRoom(info.id) {
            case .movedToLobby: state.room = .lobby
            case .alreadyInLobby: send(ServerLine.error("You are in #lobby already; /quit leaves the server."))
            }
        case .rooms:
            let rooms = await hub.roomList()
            var list = rooms.prefix(Self.listLimit).map { "\($0.name) (\($0.members))" }.joined(separator: ", ")
            if rooms.count > Self.listLimit { list += ", ... and \(rooms.count - Self.listLimit) more" }
            send(ServerLine.notice("\(rooms.count) room\(rooms.count == 1 ? "" : "s"): \(list)"))
        case .whois(let target):
            guard let who = await hub.whois(target) else {
                send(ServerLine.error("No user named \(target) is online."))
                return
            }
            var line = "\(who.name)\(who.isOperator ? " (operator)" : ""): in \(who.room),"
            line += " connected since \(who.connectedAt.dateTime), over \(who.transport)"
            if let fingerprint = who.certificateFingerprint { line += ", client certificate SHA-256 \(fingerprint)" }
            send(ServerLine.notice(line + "."))
        case .ping:
            // Through the hub, so the answer comes after everything the hub sent this user before: a client
            // (or a test) can use /ping as a barrier.
            await hub.pong(info.id)
        case .kick(let target, let reason):
            report(await hub.kick(by: info.id, target: target, reason: reason), target: target)
        case .ban(let target, let reason):
            report(await hub.ban(by: info.id, target: target, reason: reason), target: target)
        case .unban(let target):
            let outcome = await hub.unban(by: info.id, target: target)
            if outcome == .done { send(ServerLine.notice("Lifted the ban on \(target).")) }
            report(outcome, target: target)
        case .bans:
            guard let bans = await hub.banList(seenBy: info.id) else {
                report(.notOperator, target: "")
                return
            }
            send(ServerLine.notice("\(bans.count) ban\(bans.count == 1 ? "" : "s")\(bans.isEmpty ? "." : ":")"))
            for ban in bans { send(ServerLine.notice("  \(ban.summary)")) }
        }
    }

    /// Tells the user why an operator command did nothing (success speaks for itself: the room sees it).
    private func report(_ outcome: OperatorOutcome, target: String) {
        switch outcome {
        case .done: break
        case .notOperator: send(ServerLine.error("That command is for operators only."))
        case .noSuchUser: send(ServerLine.error("No user named \(target) is online."))
        case .cannotTargetSelf: send(ServerLine.error("You cannot do that to yourself."))
        case .notBanned: send(ServerLine.error("Nothing is banned under \(target)."))
        }
    }

    private func listUsers(all: Bool, room: RoomName) async {
        let users = await hub.users(seenBy: info.id, all: all)
        // One line must stay well inside the outbox limit even with tens of thousands online.
        let shown = users.prefix(Self.listLimit)
        var names = shown.map { user -> String in
            var entry = user.name
            if all { entry += " \(user.room)" }
            if user.isOperator { entry += " [op]" }
            if !user.transport.isEncrypted { entry += " [plaintext]" }
            return entry
        }.joined(separator: ", ")
        if users.count > shown.count { names += ", ... and \(users.count - shown.count) more" }
        let count = "\(users.count) user\(users.count == 1 ? "" : "s")"
        let scope = all ? "online" : "in \(room)"
        send(ServerLine.notice("\(count) \(scope): \(names)"))
    }

    private func showStatistics() async {
        let now = Timestamp.now()
        let sent = await hub.messagesSent(by: info.id)
        let since = info.connectedAt
        var mine = "You: \(sent) message\(sent == 1 ? "" : "s") sent, connected since \(since.dateTime)"
        mine += " (\(Timestamp.describe(seconds: now.secondsSinceEpoch - since.secondsSinceEpoch))), over \(info.transport)."
        send(ServerLine.notice(mine))
        let server = await hub.currentStatistics()
        var line = "Server: \(server.usersOnline) user\(server.usersOnline == 1 ? "" : "s") online"
        line += " in \(server.rooms) room\(server.rooms == 1 ? "" : "s"), \(server.messages) message\(server.messages == 1 ? "" : "s") relayed,"
        line += " up \(Timestamp.describe(seconds: now.secondsSinceEpoch - server.startedAt.secondsSinceEpoch))."
        send(ServerLine.notice(line))
    }

    /// Most names one `/users` or `/rooms` line lists.
    static let listLimit = 200

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
        "  /quit [reason]         leave",
        "Operators:",
        "  /kick <user> [reason]  disconnect a user",
        "  /ban <user> [reason]   disconnect and ban their name and address",
        "  /unban <user|address>  lift a ban;  /bans lists them",
        "Anything else is a chat line to your room. Start a line with // to send a literal /.",
    ]
}

extension String {
    fileprivate var capitalizedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
