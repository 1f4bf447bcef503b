// The hub's answers to what a session asks of it.

/// The answer to `Hub.login`.
public enum LoginOutcome: Sendable, Equatable {
    case loggedIn(room: RoomName, isOperator: Bool)
    /// Someone has that name already (compared ignoring case).
    case nameTaken
    /// The name or the address is banned; the ban's summary says by whom and why.
    case banned(String)
}

/// The answer to the operator commands.
public enum OperatorOutcome: Sendable, Equatable {
    case done
    case notOperator
    case noSuchUser
    case cannotTargetSelf
    /// Operators cannot kick or ban each other.
    case targetIsOperator
    /// `/unban` found nothing to lift.
    case notBanned
}

/// The answer to `Hub.directMessage`.
public enum DirectMessageOutcome: Sendable, Equatable {
    case sent
    case noSuchUser
    case toSelf
}

/// The answer to `Hub.join`.
public enum JoinOutcome: Sendable, Equatable {
    case joined
    case alreadyThere
    case tooManyRooms
}

/// The answer to `Hub.leaveRoom`.
public enum LeaveRoomOutcome: Sendable, Equatable {
    case movedToLobby
    case alreadyInLobby
}
