/// Who the well-behaved ("steady") clients of a soak are: which room each sits in for the whole run, how
/// often and how much it writes, over which transport, and to whom it sends direct messages.
///
/// Steady clients are numbered 0..<``steadyCount``, group by group. Group 0 stays in `#lobby` (where the
/// churning clients come and go), groups 1... in `#soak-1`..., and an optional last "firehose" group in
/// `#soak-slow` writes long lines often, so that the slow readers who join that room fall behind quickly
/// and are evicted. Within a group the transports alternate, plaintext first.
public struct SoakPlan: Sendable, Equatable {
    /// A set of steady clients sharing one room and one pace.
    public struct Group: Sendable, Equatable {
        public var room: String
        public var members: Int
        /// Time between two room lines of one member.
        public var intervalMilliseconds: Int
        /// Text size of a room line.
        public var bytes: Int
        /// Whether members also send direct messages (every ``SoakPlan/directEvery`` room lines).
        public var sendsDirect: Bool

        public init(room: String, members: Int, intervalMilliseconds: Int, bytes: Int, sendsDirect: Bool) {
            self.room = room
            self.members = members
            self.intervalMilliseconds = intervalMilliseconds
            self.bytes = bytes
            self.sendsDirect = sendsDirect
        }

        /// Lines per second one member sends at most (room lines and direct messages).
        func linesPerSecond(directEvery: Int) -> Double {
            let room = 1000 / Double(intervalMilliseconds)
            return sendsDirect ? room * (1 + 1 / Double(directEvery)) : room
        }
    }

    public let groups: [Group]
    /// A direct message goes with every this many room lines.
    public let directEvery: Int
    private let firstIndex: [Int]

    /// The room the slow readers join: the firehose room if there is one, else the last room.
    public var slowReaderRoom: String { groups[groups.count - 1].room }

    public var steadyCount: Int { firstIndex.last! }

    /// - Parameters:
    ///   - rooms: regular rooms (the first is `#lobby`).
    ///   - membersPerRoom: steady clients in each regular room.
    ///   - intervalMilliseconds, bytes: pace and size of regular room lines.
    ///   - directEvery: one direct message with every this many room lines.
    ///   - firehoseMembers: steady clients in `#soak-slow` (0: none; the slow readers then join the last
    ///     regular room).
    ///   - firehoseIntervalMilliseconds, firehoseBytes: their pace and line size.
    ///   - rateLimit: the server's lines/s per client; every steady client must stay under it with room to
    ///     spare for jitter (at most 80 % of it), or it would be refused lines and count as a failure.
    public init(
        rooms: Int, membersPerRoom: Int, intervalMilliseconds: Int, bytes: Int, directEvery: Int,
        firehoseMembers: Int, firehoseIntervalMilliseconds: Int, firehoseBytes: Int, rateLimit: Double
    ) throws(BenchError) {
        guard rooms >= 1, membersPerRoom >= 2, intervalMilliseconds >= 1, bytes >= 1, directEvery >= 1,
            firehoseMembers >= 0, firehoseMembers != 1, firehoseIntervalMilliseconds >= 1, firehoseBytes >= 1
        else {
            throw .invalidOption(
                "soak needs rooms >= 1, at least 2 members per room, intervals and sizes >= 1, and 0 or >= 2 firehose members"
            )
        }
        var groups = (0..<rooms).map { index in
            Group(
                room: index == 0 ? "#lobby" : "#soak-\(index)", members: membersPerRoom,
                intervalMilliseconds: intervalMilliseconds, bytes: bytes, sendsDirect: true)
        }
        if firehoseMembers > 0 {
            groups.append(
                Group(
                    room: "#soak-slow", members: firehoseMembers, intervalMilliseconds: firehoseIntervalMilliseconds,
                    bytes: firehoseBytes, sendsDirect: false))
        }
        if rateLimit > 0 {
            for group in groups where group.linesPerSecond(directEvery: directEvery) > 0.8 * rateLimit {
                throw .invalidOption(
                    "\(group.room): \(group.linesPerSecond(directEvery: directEvery)) lines/s per client is over 80 % of the server's rate limit (\(rateLimit)/s)"
                )
            }
        }
        self.groups = groups
        self.directEvery = directEvery
        var first = [0]
        for group in groups { first.append(first.last! + group.members) }
        self.firstIndex = first
    }

    /// The group (index into ``groups``) of steady client `index`.
    public func group(ofSteady index: Int) -> Int {
        precondition(index >= 0 && index < steadyCount, "steady index out of range")
        var group = 0
        while firstIndex[group + 1] <= index { group += 1 }
        return group
    }

    /// Steady client `index` uses the TLS port (every second member of its group).
    public func usesTLS(steady index: Int) -> Bool {
        (index - firstIndex[group(ofSteady: index)]) % 2 == 1
    }

    /// Steady clients that send direct messages: the regular rooms' members, numbered first.
    public var directSenders: Int {
        groups.filter(\.sendsDirect).reduce(0) { $0 + $1.members }
    }

    /// Whom steady client `index` sends its direct messages to: the member at the same place in the next
    /// regular room (the first after the last), so that DMs cross rooms; with one room, the next member.
    /// Every direct sender receives from exactly one other. `nil` for firehose members.
    public func directPartner(of index: Int) -> Int? {
        let senders = directSenders
        guard index >= 0, index < senders else { return nil }
        let perRoom = groups[0].members
        let rooms = senders / perRoom
        if rooms > 1 { return (index + perRoom) % senders }
        return (index + 1) % perRoom
    }

    /// The steady client that sends its direct messages to `index`, if any.
    public func directSource(of index: Int) -> Int? {
        (0..<directSenders).first { directPartner(of: $0) == index }
    }
}

/// What one connection of the `churn` scenario (bench/leakcheck.sh) does after connecting.
public enum ChurnKind: String, CaseIterable, Sendable {
    /// TLS: a real client closes as soon as the server's first flight arrives, or a ClientHello cut short is
    /// sent and the connection closed; plaintext: closes after the greeting, before a username.
    case dropBeforeLogin = "drop_before_login"
    /// Logs in, chats, `/quit`.
    case quit
    /// Logs in, chats, closes the socket (FIN) without a word.
    case close
    /// Logs in, chats, resets the connection (RST: SO_LINGER 0).
    case reset
    /// Logs in, chats, `/join`s a room of its own, chats there, `/leave`s, `/quit`.
    case roomVisit = "room_visit"
}

/// The mix of a churn: in every 20 connections, 2 drop before login, 8 quit, 4 close, 2 reset, 4 visit a
/// room. Consecutive indexes alternate transports at a ratio of 0.5, so each kind is run over both.
public enum ChurnPlan {
    public static func kind(of index: Int) -> ChurnKind {
        switch index % 20 {
        case 0..<2: .dropBeforeLogin
        case 2..<10: .quit
        case 10..<14: .close
        case 14..<16: .reset
        default: .roomVisit
        }
    }

    /// Whether connection `index` uses TLS, `ratio` of them spread evenly.
    public static func usesTLS(_ index: Int, ratio: Double) -> Bool {
        IdleScenario.usesAlternate(index, ratio: ratio)
    }
}
