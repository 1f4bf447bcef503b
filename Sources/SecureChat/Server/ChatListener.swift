import NIOCore
import NIOPosix

/// One listening port, as one unit: per accepted socket it admits (limits, socket options), installs its
/// transport layer, then the chat pipeline every port shares (sniffer, `LineDecoder`, `Outbox`,
/// `SessionDriver`), and starts the session once the transport is established. What differs between the
/// plaintext and the TLS port is all in the `TransportLayer`, which the listener never asks about its kind.
///
/// The socket is our own (`ListeningSocket`), so that each connection's `SocketWriter` knows its socket; NIO serves
/// every accepted connection from then on.
struct ChatListener: Sendable {
    /// The listening socket; closing it stops accepting.
    let socket: ListeningSocket
    let transport: any TransportLayer

    /// The bound port (the real one when port 0 was asked for).
    var port: Int? { socket.address.port }

    /// Binds `port` on the configured host. A port that cannot be opened throws a `ListenerBindError` naming
    /// the listener (`name`) and the flag that sets its port.
    static func bind(
        port: Int, name: String, portFlag: String, transport: any TransportLayer, _ context: ServerContext
    ) async throws -> ChatListener {
        do {
            return try bindSocket(on: port, transport: transport, context)
        } catch {
            throw ListenerBindError(
                listener: name, host: context.configuration.host, port: port, flag: portFlag, hostFlag: "--host",
                underlying: error
            )
        }
    }

    private static func bindSocket(
        on port: Int, transport: any TransportLayer, _ context: ServerContext
    ) throws -> ChatListener {
        let group = context.group
        let logger = context.logger
        let socket = try ListeningSocket(
            host: context.configuration.host, port: port, backlog: 1024,
            threadName: "accept-\(transport.kind)",
            onError: { error in
                context.refusalLog.log(
                    "cannot accept", metadata: ["transport": "\(transport.kind)", "error": "\(error)"],
                    level: .warning, to: logger)
            },
            accepted: { descriptor in
                _ = ClientBootstrap(group: group)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    // No receive buffer kept per idle connection (see IdleFriendlyRecvAllocator).
                    .channelOption(.maxMessagesPerRead, value: 1)
                    .channelOption(.recvAllocator, value: IdleFriendlyRecvAllocator())
                    .channelInitializer { channel in
                        admit(channel, socket: descriptor, over: transport, context).map { admission in
                            if case .accepted(let connection) = admission { serve(connection, context) }
                        }
                    }
                    .withConnectedSocket(descriptor)
            }
        )
        logger.info("listening", metadata: ["transport": "\(transport.kind)", "address": "\(socket.address)"])
        return ChatListener(socket: socket, transport: transport)
    }
}
