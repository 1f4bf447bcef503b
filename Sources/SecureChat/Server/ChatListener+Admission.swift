import Logging
import NIOCore

extension ChatListener {
    /// Runs on the new channel's event loop, before it is active: applies the connection limits, the socket
    /// options and the pipeline. A refused connection gets nothing but (where the transport can say it) one
    /// error line.
    static func admit(
        _ channel: any Channel, socket: CInt, over transport: any TransportLayer, _ context: ServerContext
    ) -> EventLoopFuture<Admission> {
        let address = channel.remoteAddress?.displayAddress ?? "unknown"
        // A banned address gets no handshake, no login state and no slot, unless the transport says only its
        // handshake can tell whether the client is an operator (TLS with operator certificates).
        if !transport.letsBannedAddressesReachHandshake, let peer = channel.remoteAddress.flatMap(IPAddress.init),
            context.bans.matching(address: peer) != nil
        {
            return refuse(channel, over: transport, address: address, reason: .banned, context)
        }
        let addressKey = ConnectionLimiter.addressKey(for: channel.remoteAddress)
        guard context.acceptThrottle.admit(address: addressKey, now: .now()) else {
            return refuse(channel, over: transport, address: address, reason: .connectRate, context)
        }
        let ticket: ConnectionTicket
        switch context.limiter.tryAcquire(address: addressKey) {
        case .admitted(let admitted):
            ticket = admitted
        case .refused(let reason):
            return refuse(channel, over: transport, address: address, reason: .limit(reason), context)
        }
        context.counters.increment(.connectionAccepted)
        let tuning = SocketTuning.apply(
            context.configuration.keepalive, sendBuffer: context.configuration.sendBufferBytes, to: channel)
        let admitted = tuning.flatMapThrowing {
            let id = context.nextConnectionID()
            return Admission.accepted(
                try setUpPipeline(
                    channel, socket: socket, id: id, over: transport, address: address, ticket: ticket, context)
            )
        }
        // A connection that could not be set up (a socket option refused on a socket its peer already reset, a TLS
        // session that could not be made) is closed by NIO and never served: its slot must come back here, or
        // enough such connections would fill the server for good.
        admitted.whenFailure { _ in ticket.release() }
        return admitted
    }

    /// Why a connection is refused at accept.
    enum Refusal: CustomStringConvertible {
        case banned
        case connectRate
        case limit(ConnectionLimiter.RefusalReason)

        var description: String {
            switch self {
            case .banned: return "banned"
            case .connectRate: return "connect rate"
            case .limit(let reason): return "\(reason)"
            }
        }
    }

    private static func refuse(
        _ channel: any Channel,
        over transport: any TransportLayer,
        address: String,
        reason: Refusal,
        _ context: ServerContext
    ) -> EventLoopFuture<Admission> {
        let message: String
        switch reason {
        case .banned:
            context.counters.increment(.refusedBanned)
            message = "Your address is banned from this server."
        case .connectRate:
            context.counters.increment(.refusedConnectRate)
            message = "Too many new connections from your address; wait a moment and try again."
        case .limit(.serverFull):
            context.counters.increment(.refusedServerFull)
            message = "The server is full; try again later."
        case .limit(.tooManyFromAddress):
            context.counters.increment(.refusedPerAddress)
            message = "Too many connections from your address; close one and try again."
        }
        context.refusalLog.log(
            "connection refused",
            metadata: ["peer": "\(address)", "transport": "\(transport.kind)", "reason": "\(reason)"],
            to: context.logger
        )
        return channel.eventLoop.makeCompletedFuture {
            // The refused connection's whole pipeline is an outbox: say why (if the transport can), then close.
            // Whatever the client sends is never read by anyone.
            let outbox = Outbox(
                channel: channel, limit: 1024, writeTimeout: context.configuration.writeTimeout, counters: nil,
                log: ConnectionLog(plain: context.logger)
            )
            try channel.pipeline.syncOperations.addHandler(outbox)
            if transport.tellsRefusalsInALine { outbox.send(ServerLine.error(message)) }
            outbox.close(reason: .refused)
            return .refused
        }
    }

    private static func setUpPipeline(
        _ channel: any Channel,
        socket: CInt,
        id: ConnectionID,
        over transport: any TransportLayer,
        address: String,
        ticket: ConnectionTicket,
        _ context: ServerContext
    ) throws -> AcceptedConnection {
        let configuration = context.configuration
        let log = ConnectionLog(base: context.logger, id: id, address: address, kind: transport.kind)
        let pipeline = channel.pipeline.syncOperations
        let acceptedAt = NIODeadline.now()
        // First, next to NIO's head: every write of every handler above goes through it.
        let socketWriter = SocketWriter(socket: socket)
        try pipeline.addHandler(socketWriter)
        let established = try transport.install(
            on: channel, above: socketWriter, log: log, acceptedAt: acceptedAt)
        let sniffer = configuration.web.enabled ? ProtocolSniffer(eventLoop: channel.eventLoop) : nil
        if let sniffer { try pipeline.addHandler(sniffer) }
        let decoder = transport.lineDecoder(maximumLength: configuration.maximumLineBytes)
        try pipeline.addHandler(ByteToMessageHandler(decoder), name: LineDecoder.handlerName)
        let outbox = Outbox(
            channel: channel,
            limit: configuration.outboxBytes,
            jsonLimit: configuration.jsonOutboxBytes,
            writeTimeout: configuration.writeTimeout,
            counters: context.counters,
            log: log,
            evictionLog: context.evictionLog
        )
        let timers = SessionTimers(
            outbox: outbox, loginTimeout: configuration.loginTimeout, idleTimeout: configuration.idleTimeout, log: log
        )
        let driver = SessionDriver(outbox: outbox, timers: timers)
        try pipeline.addHandler(driver)
        // Last, behind the driver, which consumes every line: the writer is out of the inbound path and sees only
        // the channel's events (active, writable, inactive), which it needs.
        try pipeline.addHandler(outbox)
        log.log(.debug, "connection accepted")
        return AcceptedConnection(
            id: id, kind: transport.kind, channel: channel, driver: driver, outbox: outbox, address: address,
            ticket: ticket, established: established, timers: timers, log: log, sniffer: sniffer,
            directWriter: transport.outboundWriter(in: channel, socketWriter: socketWriter).map {
                NIOLoopBound($0, eventLoop: channel.eventLoop)
            }
        )
    }
}
