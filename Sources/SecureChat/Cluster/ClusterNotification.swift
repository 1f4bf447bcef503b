import Foundation

/// One notification on the `securechat` channel, decoded (the payloads are written by the functions in
/// ``ClusterSchemaVersion3`` and by ``ClusterLink``).
///
/// A notification is a doorbell: it says where to look, never what happened. Any role that can connect to the
/// database can `NOTIFY` on the channel, so nothing in a payload is believed: a node reads what changed from
/// the tables, which only the cluster's own role can write, and a forged notification costs at most one
/// query. Every field is bounded and checked here; anything that does not decode is logged and ignored.
enum ClusterNotification: Sendable, Equatable {
    /// Lines were committed in `rooms` (nil: in rooms not listed, because the list did not fit), up to
    /// `lastSequences` (one per room, or nil). The sequences are only a hint: a node that has delivered a
    /// room up to it skips reading the room; otherwise it reads what the table has, whatever the hint said.
    /// `committedAtMilliseconds` feeds only the lag metric.
    case roomLines(node: String, committedAtMilliseconds: Int64?, rooms: [RoomName]?, lastSequences: [Int64]?)
    /// The presence row of `nameKey` changed (a login, a move or a departure on `node`).
    case presence(nameKey: String, node: String)
    /// `node`'s incarnation `incarnation` was declared down, or left.
    case nodeDown(node: String, incarnation: Int64)
    case bansChanged
    /// Accounts changed: each node reads the changes past its copy's revision.
    case accountsChanged
    /// Direct messages or kicks wait for `node` in the relay table.
    case relays(node: String)

    /// PostgreSQL refuses payloads of 8000 bytes or more; anything longer is not ours.
    static let maximumPayloadBytes = 8000
    /// Longest node name or name key a notification may carry (node names are a hostname and port by default;
    /// name keys are the skeletons of 24-character names).
    static let maximumFieldBytes = 255
    /// Most rooms one notification lists (a batch has at most `ClusterLink.batchLimit` lines).
    static let maximumRooms = 64

    static func decode(_ payload: String) -> ClusterNotification? {
        guard payload.utf8.count < maximumPayloadBytes, let data = payload.data(using: .utf8),
            let envelope = try? JSONDecoder().decode(Envelope.self, from: data)
        else { return nil }
        switch envelope.k {
        case "e":
            guard let node = field(envelope.n) else { return nil }
            var rooms: [RoomName]?
            if let names = envelope.r {
                guard names.count <= maximumRooms else { return nil }
                let parsed = names.compactMap(RoomName.init(parsing:))
                guard parsed.count == names.count else { return nil }
                rooms = parsed
            }
            if let lasts = envelope.s, lasts.count != rooms?.count { return nil }
            return .roomLines(node: node, committedAtMilliseconds: envelope.ms, rooms: rooms, lastSequences: envelope.s)
        case "p":
            guard let key = field(envelope.u), let node = field(envelope.n) else { return nil }
            return .presence(nameKey: key, node: node)
        case "d":
            guard let node = field(envelope.n), let incarnation = envelope.i else { return nil }
            return .nodeDown(node: node, incarnation: incarnation)
        case "b":
            return .bansChanged
        case "a":
            return .accountsChanged
        case "m":
            guard let node = field(envelope.n) else { return nil }
            return .relays(node: node)
        default:
            return nil
        }
    }

    /// A node name or name key: present, not empty, not longer than `maximumFieldBytes`, no control characters.
    private static func field(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.utf8.count <= maximumFieldBytes,
            text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else { return nil }
        return text
    }

    /// The fields any kind may carry (one decoding per notification, whatever its kind). A field of the wrong
    /// type (a number too big for 64 bits, a string for a number) fails the whole decoding.
    private struct Envelope: Decodable {
        let k: String
        let n: String?
        let ms: Int64?
        let r: [String]?
        let s: [Int64]?
        let u: String?
        let i: Int64?
    }

    /// The lag of a notification, in milliseconds, from its commit time and now (both in milliseconds since the
    /// epoch); nil when the commit time is absent, in the future, or absurd (a forged or skewed clock).
    static func lagMilliseconds(committedAt: Int64?, now: Int64) -> Int64? {
        guard let committedAt else { return nil }
        let (lag, overflow) = now.subtractingReportingOverflow(committedAt)
        guard !overflow, lag >= 0, lag <= 3_600_000 else { return nil }
        return lag
    }
}
