import Foundation

/// One notification on the `securechat` channel, decoded (the payloads are written by the functions in
/// ``ClusterSchemaVersion2`` and by ``ClusterLink``). Anything that does not decode is logged and ignored:
/// a newer node's notification must not stop an older one.
enum ClusterNotification: Sendable, Equatable {
    /// Committed room lines; a nil line is read from the table (the payload would have been too big).
    case roomLines(node: String, committedAtMilliseconds: Int64, lines: [Line])
    case loggedIn(Presence)
    case moved(nameKey: String, node: String, room: String)
    case left(nameKey: String, node: String)
    case nodeDown(node: String, incarnation: Int64)
    case bansChanged
    case directMessage(node: String, nameKey: String, line: String)
    case kick(node: String, nameKey: String, action: String, by: String, reason: String?)

    struct Line: Sendable, Equatable {
        let room: String
        let sequence: Int64
        let except: Int64
        let text: String?
    }

    struct Presence: Sendable, Equatable {
        let u: String
        let d: String
        let n: String
        let r: String
        let l: Int64
        let t: String
        let f: String?
        let a: String
        let c: Int64
    }

    static func decode(_ payload: String) -> ClusterNotification? {
        guard let data = payload.data(using: .utf8),
            let envelope = try? JSONDecoder().decode(Envelope.self, from: data)
        else { return nil }
        switch envelope.k {
        case "e":
            guard let node = envelope.n, let lines = envelope.e else { return nil }
            return .roomLines(node: node, committedAtMilliseconds: envelope.ms ?? 0, lines: lines.map(\.line))
        case "p":
            switch envelope.o {
            case "in":
                guard let key = envelope.u, let display = envelope.d, let node = envelope.n, let room = envelope.r,
                    let order = envelope.l, let transport = envelope.t, let address = envelope.a,
                    let at = envelope.c
                else { return nil }
                return .loggedIn(
                    Presence(
                        u: key, d: display, n: node, r: room, l: order, t: transport, f: envelope.f, a: address, c: at))
            case "mv":
                guard let key = envelope.u, let node = envelope.n, let room = envelope.r else { return nil }
                return .moved(nameKey: key, node: node, room: room)
            case "out":
                guard let key = envelope.u, let node = envelope.n else { return nil }
                return .left(nameKey: key, node: node)
            default: return nil
            }
        case "d":
            guard let node = envelope.n, let incarnation = envelope.i else { return nil }
            return .nodeDown(node: node, incarnation: incarnation)
        case "b":
            return .bansChanged
        case "m":
            guard let node = envelope.n, let key = envelope.u, let line = envelope.x else { return nil }
            return .directMessage(node: node, nameKey: key, line: line)
        case "x":
            guard let node = envelope.n, let key = envelope.u, let action = envelope.a, let by = envelope.b else {
                return nil
            }
            return .kick(node: node, nameKey: key, action: action, by: by, reason: envelope.x)
        default:
            return nil
        }
    }

    /// The fields any kind may carry (one decoding per notification, whatever its kind).
    private struct Envelope: Decodable {
        let k: String
        let n: String?
        let ms: Int64?
        let d: String?
        let l: Int64?
        let t: String?
        let f: String?
        let c: Int64?
        let e: [LineArray]?
        let o: String?
        let u: String?
        let r: String?
        let i: Int64?
        let x: String?
        let a: String?
        let b: String?
    }

    /// `[room, sequence, except]` or `[room, sequence, except, line]`.
    private struct LineArray: Decodable {
        let line: Line

        init(from decoder: any Decoder) throws {
            var array = try decoder.unkeyedContainer()
            let room = try array.decode(String.self)
            let sequence = try array.decode(Int64.self)
            let except = try array.decode(Int64.self)
            let text = array.isAtEnd ? nil : try array.decodeNil() ? nil : try array.decode(String.self)
            line = Line(room: room, sequence: sequence, except: except, text: text)
        }
    }

    /// The JSON of a notification the node sends itself (relayed DMs and kicks), built the same way.
    static func encode(_ fields: [String: String?]) -> String {
        let object = fields.compactMapValues { $0 }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
