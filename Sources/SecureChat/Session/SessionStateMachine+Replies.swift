/// Turning the hub's answers into the lines the user reads.
extension SessionStateMachine {
    /// The hub's reply to the last `.request` action, once it is not `.pending` a commit (`receive(_:to:)`
    /// decides what a pending reply waits for).
    public mutating func receive(_ reply: HubReply) -> [SessionAction] {
        if case .closing = state { return [] }
        switch reply {
        case .done, .pending:
            return []
        case .commit(let outcome):
            return Self.refusal(outcome).map { [.error($0)] } ?? []
        case .login(let name, let outcome):
            return loginReplied(name, outcome)
        case .directMessage(let target, let outcome):
            switch outcome {
            case .sent: return []
            case .noSuchUser: return [.error("No user named \(target) is online.")]
            case .toSelf: return [.error("You cannot send a direct message to yourself.")]
            case .relayed: return []
            case .clusterUnavailable: return [.error(Self.pausedLine + " Your message was not sent.")]
            case .recipientBusy:
                return [.error("\(target) is getting too many direct messages; yours was not sent. Try again soon.")]
            }
        case .users(let list):
            return [.show(.users(list))]
        case .rooms(let list):
            return [.show(.rooms(list))]
        case .whois(let target, let who):
            guard let who else { return [.error("No user named \(target) is online.")] }
            return [.show(.whois(who, showsAccount: settings.accounts))]
        case .stats(let report):
            return [.show(.stats(report, connectedAt: connectedAt, transport: transport))]
        case .join(let room, let outcome):
            switch outcome {
            case .joined: return []
            case .alreadyThere: return [.error("You are already in \(room).")]
            case .tooManyRooms: return [.error("The server has too many rooms; join an existing one (/rooms).")]
            case .creatingTooFast:
                return [.error("Your address has opened too many rooms lately; join an existing one (/rooms).")]
            case .clusterUnavailable: return [.error(Self.pausedLine + " You stay in your room.")]
            }
        case .leave(let outcome):
            switch outcome {
            case .movedToLobby: return []
            case .alreadyInLobby: return [.error("You are in #lobby already; /quit leaves the server.")]
            case .clusterUnavailable: return [.error(Self.pausedLine + " You stay in your room.")]
            }
        case .moderation(let target, let outcome, let lifted):
            return Self.describe(outcome, target: target, lifted: lifted)
        case .bans(let page):
            guard let page else { return Self.describe(.notOperator, target: "", lifted: false) }
            return Self.describe(page)
        case .ignore(let outcome):
            return Self.describe(outcome)
        }
    }

    /// What the sender of a line that had to be committed is told when it was not (nil when it was).
    public static func refusal(_ outcome: CommitOutcome) -> String? {
        switch outcome {
        case .committed: nil
        case .notSent: pausedLine + " What you sent was not delivered."
        case .uncertain: "The link to the database broke while your line was being stored; it may not have been sent."
        }
    }

    /// What a user is told when something needs the cluster's database and it cannot be reached.
    static let pausedLine = "Chat is paused: this server has lost its link to the cluster's database."

    private static func describe(_ page: BanPage) -> [SessionAction] {
        let count = "\(page.total) ban\(page.total == 1 ? "" : "s")"
        let entries = zip(page.handles, page.bans).map { handle, ban in
            SessionAction.notice("  #\(handle) \(ban.summary(showingAddress: page.showsAddresses))")
        }
        if page.pages == 1 {
            return [.notice(count + (page.total == 0 ? "." : ":"))] + entries
        }
        guard !page.bans.isEmpty else {
            return [.error("There are \(page.pages) pages of bans; /bans 1 to /bans \(page.pages).")]
        }
        var lines: [SessionAction] = [.notice("\(count), page \(page.number) of \(page.pages):")]
        lines += entries
        if page.number < page.pages { lines.append(.notice("/bans \(page.number + 1) for more.")) }
        return lines
    }

    private static func describe(_ outcome: IgnoreOutcome) -> [SessionAction] {
        switch outcome {
        case .ignoring(let name): return [.notice("Ignoring \(name): you will not see their lines or DMs.")]
        case .unignored(let name): return [.notice("No longer ignoring \(name).")]
        case .list(let names):
            return [.notice(names.isEmpty ? "You are ignoring nobody." : "Ignoring: " + names.joined(separator: ", "))]
        case .noSuchUser: return [.error("No user by that name is online.")]
        case .toSelf: return [.error("You cannot ignore yourself.")]
        case .notIgnored: return [.error("You are not ignoring anyone by that name.")]
        case .listFull: return [.error("You are ignoring \(Hub.ignoreLimit) names already; /unignore some first.")]
        }
    }

    /// Why an operator command did nothing (success speaks for itself: the room sees it).
    private static func describe(_ outcome: OperatorOutcome, target: String, lifted: Bool) -> [SessionAction] {
        switch outcome {
        case .done: return lifted ? [.notice("Lifted the ban on \(target).")] : []
        case .notOperator: return [.error("That command is for operators only.")]
        case .noSuchUser: return [.error("No user named \(target) is online.")]
        case .cannotTargetSelf: return [.error("You cannot do that to yourself.")]
        case .targetIsOperator: return [.error("\(target) is an operator; operators cannot kick or ban each other.")]
        case .banListFull:
            return [.error("The ban list is full (\(BanStore.defaultCapacity) bans); lift some with /unban first.")]
        case .bannedNameOnly:
            return [
                .notice("Banned the name \(target) only: they connect from your own address, which you cannot ban.")
            ]
        case .ownNetwork(let network):
            return [.error("You are connected from inside \(network); you cannot ban your own address.")]
        case .bannedNetwork(let network, let disconnected):
            return [.notice("Banned \(network); \(disconnected) user\(disconnected == 1 ? "" : "s") disconnected.")]
        case .networkTooWide(let network, let narrowest):
            return [
                .error(
                    "\(network) is too wide to ban from chat (at most /\(narrowest)); wider bans belong in the ban file."
                )
            ]
        case .banningTooFast: return [.error("You are banning too fast; wait a minute and try again.")]
        case .notBanned: return [.error("Nothing is banned under \(target).")]
        case .clusterUnavailable: return [.error(pausedLine + " Nothing was changed.")]
        }
    }
}
