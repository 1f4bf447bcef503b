import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A tiny IRC server for the tests of chatbench's IRC dialect, on 127.0.0.1 and a port of its own: it
/// registers a client at `NICK` + `USER` (`001`, then `422` no MOTD, which a client must not take for an
/// error), answers `JOIN` with the JOIN echo and `353`, then `PING`s the client and sends `366` only once the
/// client has answered with the right `PONG`, so a client that does not answer never logs in. It relays
/// `PRIVMSG #channel :text` to the channel's other members (to every member, sender included, with `echo`),
/// answers the client's `PING` with `PONG`, and counts what it saw in ``Counts``.
///
/// All connections live on one event loop, so the channels and their members are touched from that loop only.
final class IRCResponder: Sendable {
    /// What the responder saw, summed over all connections.
    struct Counts: Sendable, Equatable {
        var registrations = 0
        var joins = 0
        var parts = 0
        /// `PONG`s that carried the token of the responder's `PING`.
        var pongs = 0
        var wrongPongs = 0
        /// `PING`s from clients (barriers and probes).
        var pings = 0
        var privmsgs = 0
        /// Commands it does not know, and lines that did not end in `\r\n`.
        var unknown: [String] = []
        var bareLineFeeds = 0
    }

    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: any Channel
    private let state: NIOLoopBound<IRCResponderState>
    private let counts: NIOLockedValueBox<Counts>

    /// Starts listening.
    /// - Parameters:
    ///   - echo: relay a `PRIVMSG` to its sender too (IRC servers do not; some chat servers do).
    ///   - answersPings: false makes it count a client's `PING` and answer nothing, as a server that throttles
    ///     the client would.
    init(echo: Bool = false, answersPings: Bool = true) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let counts = NIOLockedValueBox(Counts())
        let state = try await loop.submit { NIOLoopBound(IRCResponderState(), eventLoop: loop) }.get()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = IRCResponderHandler(
                            state: state.value, counts: counts, echo: echo, answersPings: answersPings)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            self.port = channel.localAddress?.port ?? 0
            self.serverChannel = channel
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        self.group = group
        self.state = state
        self.counts = counts
    }

    var seen: Counts { counts.withLockedValue { $0 } }

    /// Closes every client connection: what the tests' watchdog does, so that a client stuck waiting for a
    /// line that never comes fails instead of hanging the suite.
    func dropClients() async {
        let state = self.state
        _ = try? await serverChannel.eventLoop.submit { state.value.closeAll() }.get()
    }

    func stop() async {
        await dropClients()
        _ = try? await serverChannel.close().get()
        try? await group.shutdownGracefully()
    }
}

/// The responder's channels and who is in them; on the responder's event loop only.
final class IRCResponderState {
    var members: [String: [ObjectIdentifier: IRCResponderHandler]] = [:]
    var connections: [ObjectIdentifier: IRCResponderHandler] = [:]

    func closeAll() {
        for handler in connections.values { handler.context?.close(promise: nil) }
    }
}

/// One client connection of ``IRCResponder``.
final class IRCResponderHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: IRCResponderState
    private let counts: NIOLockedValueBox<IRCResponder.Counts>
    private let echo: Bool
    private let answersPings: Bool
    fileprivate(set) var context: ChannelHandlerContext?
    private var pending: ByteBuffer?
    private var nick: String?
    private var registered = false
    /// Channels joined whose `366` waits for the client's `PONG`.
    private var awaitingPong: [String] = []

    init(state: IRCResponderState, counts: NIOLockedValueBox<IRCResponder.Counts>, echo: Bool, answersPings: Bool) {
        self.state = state
        self.counts = counts
        self.echo = echo
        self.answersPings = answersPings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        state.connections[ObjectIdentifier(self)] = self
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        state.connections[ObjectIdentifier(self)] = nil
        for channel in state.members.keys { state.members[channel]?[ObjectIdentifier(self)] = nil }
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var carried = pending {
            carried.writeBuffer(&buffer)
            buffer = carried
        }
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            var line = buffer.readString(length: length) ?? ""
            buffer.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") {
                line.removeLast()
            } else {
                counts.withLockedValue { $0.bareLineFeeds += 1 }
            }
            handle(line, context: context)
        }
        pending = buffer.readableBytes > 0 ? buffer : nil
    }

    private func handle(_ line: String, context: ChannelHandlerContext) {
        let (command, parameters) = Self.split(line)
        switch command {
        case "NICK":
            nick = parameters.first
        case "USER":
            guard let nick, !registered else { return note(line) }
            registered = true
            counts.withLockedValue { $0.registrations += 1 }
            send(":irc.test 001 \(nick) :Welcome to the test network \(nick)", to: context)
            send(":irc.test 422 \(nick) :MOTD File is missing", to: context)
        case "JOIN":
            guard registered, let nick, let channel = parameters.first else { return note(line) }
            counts.withLockedValue { $0.joins += 1 }
            state.members[channel, default: [:]][ObjectIdentifier(self)] = self
            send(":\(nick)!\(nick)@127.0.0.1 JOIN :\(channel)", to: context)
            send(":irc.test 353 \(nick) = \(channel) :\(nick)", to: context)
            awaitingPong.append(channel)
            send("PING :check-\(nick)", to: context)
        case "PART":
            guard let channel = parameters.first else { return note(line) }
            counts.withLockedValue { $0.parts += 1 }
            state.members[channel]?[ObjectIdentifier(self)] = nil
        case "PONG":
            guard let nick, parameters.last == "check-\(nick)", !awaitingPong.isEmpty else {
                counts.withLockedValue { $0.wrongPongs += 1 }
                return
            }
            counts.withLockedValue { $0.pongs += 1 }
            let channel = awaitingPong.removeFirst()
            send(":irc.test 366 \(nick) \(channel) :End of /NAMES list.", to: context)
        case "PING":
            counts.withLockedValue { $0.pings += 1 }
            if answersPings { send(":irc.test PONG irc.test :\(parameters.last ?? "")", to: context) }
        case "PRIVMSG":
            guard let nick, parameters.count == 2, let members = state.members[parameters[0]] else {
                return note(line)
            }
            counts.withLockedValue { $0.privmsgs += 1 }
            let relayed = ":\(nick)!\(nick)@127.0.0.1 PRIVMSG \(parameters[0]) :\(parameters[1])"
            for (id, member) in members where echo || id != ObjectIdentifier(self) {
                if let memberContext = member.context { send(relayed, to: memberContext) }
            }
        default:
            note(line)
        }
    }

    private func note(_ line: String) {
        counts.withLockedValue { $0.unknown.append(line) }
    }

    private func send(_ line: String, to context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeString("\r\n")
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    /// `COMMAND a b :trailing words` as `("COMMAND", ["a", "b", "trailing words"])`.
    static func split(_ line: String) -> (String, [String]) {
        var rest = Substring(line)
        var trailing: String?
        if let colon = rest.range(of: " :") {
            trailing = String(rest[colon.upperBound...])
            rest = rest[..<colon.lowerBound]
        }
        var words = rest.split(separator: " ").map(String.init)
        let command = words.isEmpty ? "" : words.removeFirst()
        if let trailing { words.append(trailing) }
        return (command, words)
    }
}
