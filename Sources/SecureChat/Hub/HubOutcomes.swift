import NIOCore

// The hub's answers to what a session asks of it.

/// The answer to `Hub.login`.
public enum LoginOutcome: Sendable, Equatable {
    case loggedIn(room: RoomName, isOperator: Bool)
    /// Someone has that name already (compared ignoring case).
    case nameTaken
    /// The name (or a look-alike) is banned: the user may choose another. Nothing says by whom or why.
    case nameBanned
    /// The address (or its network) is banned: the connection ends. Nothing says by whom or why.
    case addressBanned
    /// In a cluster: the database cannot be reached, so the name cannot be claimed. Try again later.
    case clusterUnavailable
}

/// The answer to the operator commands.
public enum OperatorOutcome: Sendable, Equatable {
    case done
    case notOperator
    case noSuchUser
    case cannotTargetSelf
    /// Operators cannot kick or ban each other.
    case targetIsOperator
    /// The ban list is at its cap.
    case banListFull
    /// The user was banned by name only: they connect from the operator's own network.
    case bannedNameOnly
    /// An operator cannot ban the network they are connected from.
    case ownNetwork(String)
    /// A network ban, and how many users it disconnected.
    case bannedNetwork(String, disconnected: Int)
    /// The network is wider than operators may ban from chat (the ban file may hold it).
    case networkTooWide(String, narrowest: Int)
    /// The operator has made too many bans lately.
    case banningTooFast
    /// `/unban` found nothing to lift.
    case notBanned
    /// In a cluster: the database cannot be reached, so nothing that other nodes must see can be done.
    case clusterUnavailable
}

/// The answer to `Hub.directMessage`.
public enum DirectMessageOutcome: Sendable, Equatable {
    case sent
    case noSuchUser
    case toSelf
    /// To a member of another node: sent once `receipt` says it is committed; then `confirmation` is the
    /// sender's copy.
    case relayed(CommitReceipt, confirmation: ChatEvent)
    case clusterUnavailable
    /// The recipient has had too many direct messages lately: not sent.
    case recipientBusy
}

/// The answer to `Hub.join`.
public enum JoinOutcome: Sendable, Equatable {
    case joined
    case alreadyThere
    case tooManyRooms
    /// The member's address has opened too many rooms lately.
    case creatingTooFast
    case clusterUnavailable
}

/// The answer to `Hub.leaveRoom`.
public enum LeaveRoomOutcome: Sendable, Equatable {
    case movedToLobby
    case alreadyInLobby
    case clusterUnavailable
}

/// The answer to `/ignore` and `/unignore`.
public enum IgnoreOutcome: Sendable, Equatable {
    /// Now ignoring this name (as shown).
    case ignoring(String)
    /// No longer ignoring this name.
    case unignored(String)
    /// `/ignore` alone: the names ignored, in the order of their skeletons.
    case list([String])
    case noSuchUser
    case toSelf
    /// `/unignore` of a name not ignored.
    case notIgnored
    /// The member ignores `Hub.ignoreLimit` names already.
    case listFull
}
