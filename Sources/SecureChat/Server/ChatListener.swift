import NIOCore
import NIOPosix

/// One listening port, as one unit: per accepted socket it admits (limits, socket options), installs its
/// transport layer, then the chat pipeline every port shares (sniffer, `LineDecoder`, `Outbox`,
/// `SessionDriver`), and starts the session once the transport is established. What differs between the
/// plaintext and the TLS port is all in the `TransportLayer`, which the listener never asks about its kind.
struct ChatListener: Sendable {
    /// The listening socket; closing it stops accepting.
    let channel: any Channel
    let transport: any TransportLayer

    /// The bound port (the real one when port 0 was asked for).
    var port: Int? { channel.localAddress?.port }

    /// Binds `port` on the configured host. A port that cannot be opened throws a `ListenerBindError` naming
    /// the listener (`name`) and the flag that sets its port.
    static func bind(
        port: Int, name: String, portFlag: String, transport: any TransportLayer, _ context: ServerContext
    ) async throws -> ChatListener {
        do {
            return try await bindSocket(on: port, transport: transport, context)
        } catch {
            throw ListenerBindError(
                listener: name, host: context.configuration.host, port: port, flag: portFlag, hostFlag: "--host",
                underlying: error
            )
        }
    }

    private static func bindSocket(
        on port: Int, transport: any TransportLayer, _ context: ServerContext
    ) async throws -> ChatListener {
        let channel = try await ServerBootstrap(group: context.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // No receive buffer kept per idle connection (see IdleFriendlyRecvAllocator).
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: IdleFriendlyRecvAllocator())
            .childChannelInitializer { channel in
                admit(channel, over: transport, context).map { admission in
                    if case .accepted(let connection) = admission { serve(connection, context) }
                }
            }
            .bind(host: context.configuration.host, port: port)
            .get()
        context.logger.info(
            "listening",
            metadata: [
                "transport": "\(transport.kind)",
                "address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
            ]
        )
        return ChatListener(channel: channel, transport: transport)
    }
}
