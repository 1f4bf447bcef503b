import NIOConcurrencyHelpers
import NIOCore

/// What the hub needs of the cluster when several nodes share one chat (`--cluster`): the other half of the
/// delivery seam. Local members get lines through their ``ClientOutbox``; room events are committed through the
/// ``RoomLog`` this refines (in PostgreSQL, and they come back in through `Hub+Cluster` in each room's order);
/// what else other nodes must see (presence, bans, relayed DMs and kicks) goes out through here.
/// `Cluster/ClusterLink` implements it over PostgreSQL; the hub never awaits it.
///
/// Every method is a synchronous hand-off: it queues work and returns. What must be confirmed before the
/// user is told anything (a chat line, a DM to another node) carries a ``CommitReceipt`` that the user's
/// session awaits, outside the hub.
public protocol ClusterSeam: RoomLog {
    /// This node's name, shown by `/stats`.
    var nodeName: String { get }
    /// Nodes whose heartbeat is current, this one included.
    var nodesUp: Int { get }
    /// A local member moved rooms.
    func moved(_ name: Username, to room: RoomName)
    /// A local member left: their name is free again.
    func released(_ name: Username)
    /// A direct message to a member of another node.
    func relayDirectMessage(from sender: String, text: String, to member: RemoteMember, receipt: CommitReceipt)
    /// An operator here kicked a member of another node; that node removes them.
    func relayKick(of member: RemoteMember, reason: CloseReason)
    /// A ban made here: stored, then every node enforces it.
    func banAdded(_ ban: Ban)
    /// Bans lifted here.
    func bansLifted(_ bans: [Ban])
}

/// A member of another node, as far as this node needs to reach them.
public struct RemoteMember: Sendable, Equatable {
    public let node: String
    /// The name's look-alike key (`Username.key`).
    public let nameKey: String
}

/// How a line that had to be committed fared.
public enum CommitOutcome: Sendable, Equatable {
    case committed
    /// Not sent: the link was down, or the database refused it.
    case notSent
    /// The connection to the database failed while the commit was under way: it may or may not have gone
    /// through (if it did, everyone sees it, once).
    case uncertain
}

/// A one-shot answer to "was it committed?": resolved once by the cluster link, and either awaited by the
/// session or watched through a callback (a chat line, which the session does not wait for).
public final class CommitReceipt: Sendable {
    public typealias Watcher = @Sendable (CommitOutcome) -> Void

    private enum State {
        case pending([Watcher])
        case resolved(CommitOutcome)
    }

    private let state = NIOLockedValueBox<State>(.pending([]))

    public init() {}

    /// A receipt already resolved (a refusal decided on the spot).
    public convenience init(_ outcome: CommitOutcome) {
        self.init()
        resolve(outcome)
    }

    /// The first call counts; later ones are ignored.
    public func resolve(_ outcome: CommitOutcome) {
        let watchers: [Watcher] = state.withLockedValue { state in
            guard case .pending(let watchers) = state else { return [] }
            state = .resolved(outcome)
            return watchers
        }
        for watcher in watchers { watcher(outcome) }
    }

    /// Calls `watcher` with the outcome once it is known: at once if it already is, otherwise on the thread
    /// that resolves the receipt (so it must be quick and must not block).
    public func whenResolved(_ watcher: @escaping Watcher) {
        let ready: CommitOutcome? = state.withLockedValue { state in
            switch state {
            case .resolved(let outcome): return outcome
            case .pending(var watchers):
                watchers.append(watcher)
                state = .pending(watchers)
                return nil
            }
        }
        if let ready { watcher(ready) }
    }

    /// True once the outcome is known.
    public var isResolved: Bool {
        state.withLockedValue { state in
            if case .resolved = state { return true }
            return false
        }
    }

    public var outcome: CommitOutcome {
        get async {
            await withCheckedContinuation { continuation in
                whenResolved { continuation.resume(returning: $0) }
            }
        }
    }
}

extension CommitReceipt: Equatable {
    public static func == (lhs: CommitReceipt, rhs: CommitReceipt) -> Bool { lhs === rhs }
}
