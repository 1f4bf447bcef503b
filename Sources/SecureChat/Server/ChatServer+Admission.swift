import Logging
import NIOCore

/// Which listener a connection came in on.
enum ListenerKind: Sendable, CustomStringConvertible {
    case plaintext
    case tls

    var description: String { self == .plaintext ? "plaintext" : "tls" }
}

/// What the listener hands to the accept loop: a connection ready for a session, or one already refused.
enum Admission: Sendable {
    case accepted(AcceptedConnection)
    case refused
}

/// A connection the listener accepted, its pipeline set up.
struct AcceptedConnection: Sendable {
    let id: ConnectionID
    let kind: ListenerKind
    let acceptedAt: NIODeadline
    let channel: any Channel
    /// The pipeline's last handler, which runs the session.
    let driver: SessionDriver
    let outbox: Outbox
    let address: String
    /// Holds the connection's place under the connection limits until the session ends.
    let ticket: ConnectionTicket
    /// Completed by the TLS handshake; nil on the plaintext port.
    let handshake: EventLoopFuture<TLSHandshakeCompleted>?
    let loginTimer: Scheduled<Void>
    let log: ConnectionLog
}

extension ChatServer {
    /// Runs on the new channel's event loop, before it is active: applies the connection limits, the socket
    /// options and the pipeline. A refused connection gets nothing but (on the plaintext port) one error line.
    static func admit(_ channel: any Channel, kind: ListenerKind, _ shared: Shared) -> EventLoopFuture<Admission> {
        let address = channel.remoteAddress?.displayAddress ?? "unknown"
        let addressKey = ConnectionLimiter.addressKey(for: channel.remoteAddress)
        guard shared.acceptThrottle.admit(address: addressKey, now: .now()) else {
            return refuse(channel, kind: kind, address: address, reason: nil, shared)
        }
        let ticket: ConnectionTicket
        switch shared.limiter.tryAcquire(address: addressKey) {
        case .admitted(let admitted):
            ticket = admitted
        case .refused(let reason):
            return refuse(channel, kind: kind, address: address, reason: reason, shared)
        }
        shared.counters.increment(.connectionAccepted)
        return SocketTuning.apply(shared.configuration.keepalive, to: channel).flatMapThrowing {
            let id = ConnectionID(shared.connectionIDs.withLockedValue { $0 += 1; return $0 })
            return .accepted(
                try setUpPipeline(channel, id: id, kind: kind, address: address, ticket: ticket, shared)
            )
        }
    }

    private static func refuse(
        _ channel: any Channel,
        kind: ListenerKind,
        address: String,
        reason: ConnectionLimiter.RefusalReason?,
        _ shared: Shared
    ) -> EventLoopFuture<Admission> {
        let message: String
        switch reason {
        case nil:
            shared.counters.increment(.refusedConnectRate)
            message = "Too many new connections from your address; wait a moment and try again."
        case .serverFull:
            shared.counters.increment(.refusedServerFull)
            message = "The server is full; try again later."
        case .tooManyFromAddress:
            shared.counters.increment(.refusedPerAddress)
            message = "Too many connections from your address; close one and try again."
        }
        shared.refusalLog.log(
            "connection refused",
            metadata: ["peer": "\(address)", "transport": "\(kind)", "reason": "\(reason.map { "\($0)" } ?? "connect rate")"],
            to: shared.logger
        )
        return channel.eventLoop.makeCompletedFuture {
            let line = kind == .plaintext ? ServerLine.error(message) : nil
            try channel.pipeline.syncOperations.addHandler(RefusalHandler(line: line))
            return .refused
        }
    }

    private static func setUpPipeline(
        _ channel: any Channel,
        id: ConnectionID,
        kind: ListenerKind,
        address: String,
        ticket: ConnectionTicket,
        _ shared: Shared
    ) throws -> AcceptedConnection {
        let configuration = shared.configuration
        let log = ConnectionLog(base: shared.logger, id: id, address: address, kind: kind)
        let pipeline = channel.pipeline.syncOperations

        var handshake: EventLoopFuture<TLSHandshakeCompleted>?
        if kind == .tls, let contexts = shared.tlsContexts {
            let tls = try OpenSSLHandler(
                context: contexts.current, mode: .server, shutdownTimeout: configuration.tlsShutdownTimeout,
                counters: shared.counters, logger: log.logger
            )
            // Its promise must always be completed, even when the pipeline cannot take the handlers.
            let observer = TLSHandshakeObserver(eventLoop: channel.eventLoop)
            do {
                try pipeline.addHandler(tls)
                try pipeline.addHandler(observer)
            } catch {
                observer.handshake.fail(error)
                throw error
            }
            handshake = observer.handshake.futureResult
        }
        let decoder = LineDecoder(
            maximumLength: configuration.maximumLineBytes, detectTLSClientHello: kind == .plaintext,
            lastLineNeedsCleanEnd: kind == .tls
        )
        try pipeline.addHandler(ByteToMessageHandler(decoder))
        let outbox = Outbox(
            eventLoop: channel.eventLoop,
            limit: configuration.outboxBytes,
            writeTimeout: configuration.writeTimeout,
            counters: shared.counters,
            log: log
        )
        try pipeline.addHandler(outbox)
        let driver = SessionDriver(channel: channel)
        try pipeline.addHandler(driver)

        let counters = shared.counters
        let loginTimer = channel.eventLoop.scheduleTask(in: configuration.loginTimeout) {
            counters.increment(.loginTimeout)
            log.logger.info("login timeout; closing")
            channel.close(promise: nil)
        }
        log.logger.debug("connection accepted")
        return AcceptedConnection(
            id: id, kind: kind, acceptedAt: .now(), channel: channel, driver: driver, outbox: outbox, address: address,
            ticket: ticket, handshake: handshake, loginTimer: loginTimer, log: log
        )
    }
}

/// The whole pipeline of a refused connection: say why (plaintext only), then close.
private final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let line: ByteBuffer?

    init(line: ByteBuffer?) {
        self.line = line
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let line else {
            context.close(promise: nil)
            return
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(line)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever a refused client sends is dropped unread.
    }
}

@available(*, unavailable)
extension RefusalHandler: Sendable {}
