import NIOConcurrencyHelpers
import NIOCore
import SecureChat

/// A `ClusterSeam` that records what the hub hands the cluster, for hub tests without a database. Published
/// lines can be "committed" back into the hub with `commit(into:)`, as the listener would.
final class RecordingClusterSeam: ClusterSeam, Sendable {
    struct Published: Sendable {
        let room: RoomName
        let event: ChatEvent
        /// The event as a line-protocol client sees it.
        var line: String { String(buffer: LineRenderer.render(event)) }
        let except: ConnectionID?
        let receipt: CommitReceipt?
    }

    private struct State {
        var linked = true
        var published: [Published] = []
        var moves: [String] = []
        var releases: [String] = []
        var kicks: [String] = []
        var directMessages: [String] = []
        var bansAdded: [Ban] = []
        var sequences: [RoomName: Int64] = [:]
    }

    private let state = NIOLockedValueBox(State())
    let nodeName: String

    init(nodeName: String = "node-a") {
        self.nodeName = nodeName
    }

    var isLinked: Bool {
        get { state.withLockedValue { $0.linked } }
        set { state.withLockedValue { $0.linked = newValue } }
    }

    var isWritable: Bool { isLinked }
    var nodesUp: Int { 2 }
    var published: [Published] { state.withLockedValue { $0.published } }
    var moves: [String] { state.withLockedValue { $0.moves } }
    var releases: [String] { state.withLockedValue { $0.releases } }
    var kicks: [String] { state.withLockedValue { $0.kicks } }
    var directMessages: [String] { state.withLockedValue { $0.directMessages } }
    var bansAdded: [Ban] { state.withLockedValue { $0.bansAdded } }

    func append(_ event: ChatEvent, to room: RoomName, except: ConnectionID?, confirmed: Bool) -> RoomLogAppend {
        let receipt = confirmed ? CommitReceipt() : nil
        state.withLockedValue {
            $0.published.append(Published(room: room, event: event, except: except, receipt: receipt))
        }
        return .pending(receipt)
    }

    func moved(_ name: Username, to room: RoomName) {
        state.withLockedValue { $0.moves.append("\(name.display) \(room)") }
    }

    func released(_ name: Username) {
        state.withLockedValue { $0.releases.append(name.display) }
    }

    func relayDirectMessage(from sender: String, text: String, to member: RemoteMember, receipt: CommitReceipt) {
        let line = String(buffer: LineRenderer.render(.directMessage(from: sender, text: text)))
        state.withLockedValue { $0.directMessages.append("\(member.node)/\(member.nameKey): \(line)") }
        receipt.resolve(.committed)
    }

    func relayKick(of member: RemoteMember, reason: CloseReason) {
        state.withLockedValue { $0.kicks.append("\(member.node)/\(member.nameKey) \(reason.leaveText)") }
    }

    func banAdded(_ ban: Ban) {
        state.withLockedValue { $0.bansAdded.append(ban) }
    }

    func bansLifted(_ bans: [Ban]) {}

    /// Numbers what was published so far in each room (continuing from earlier commits), resolves the receipts,
    /// and hands the lines to `hub` as the listener would; returns the events.
    @discardableResult
    func commit(into hub: Hub) async -> [RoomEvent] {
        let events: [RoomEvent] = state.withLockedValue { state in
            let batch = state.published
            state.published.removeAll()
            return batch.map { line in
                state.sequences[line.room, default: 0] += 1
                line.receipt?.resolve(.committed)
                return RoomEvent(
                    room: line.room, sequence: state.sequences[line.room]!, time: .now(), node: nodeName,
                    except: line.except, event: line.event)
            }
        }
        _ = await hub.applyRoomEvents(events)
        return events
    }
}
