import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 that fails the way real networks do, silently: put between a node and PostgreSQL,
/// it can stop forwarding without closing anything (`cut`), forward again (`resume`), and forget every existing
/// connection as a NAT or firewall does (`forgetConnections`: the database's side is closed, the node's side is
/// left open and never answered), while new connections go through.
///
/// A cut holds what either side sends (nothing passes, not even what was being read at that moment), stops
/// reading on both sides of every connection and stops accepting: bytes wait as they would in a network that
/// drops packets and retransmits them, and flow again, in order, after `resume`.
final class FaultProxy: Sendable {
    let port: Int
    private let server: any Channel
    private let state: NIOLockedValueBox<ProxyState>

    private struct ProxyState {
        var cut = false
        var pairs: [ObjectIdentifier: ProxiedPair] = [:]
    }

    private init(port: Int, server: any Channel, state: NIOLockedValueBox<ProxyState>) {
        self.port = port
        self.server = server
        self.state = state
    }

    /// Starts a proxy to `upstreamPort` on 127.0.0.1.
    static func start(to upstreamPort: Int) async throws -> FaultProxy {
        let state = NIOLockedValueBox(ProxyState())
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                let connecting = ClientBootstrap(group: inbound.eventLoop)
                    .channelOption(.autoRead, value: false)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                return connecting.flatMap { outbound in
                    let pair = ProxiedPair(inbound: inbound, outbound: outbound)
                    let cut = state.withLockedValue { state -> Bool in
                        state.pairs[ObjectIdentifier(pair)] = pair
                        return state.cut
                    }
                    let forget: @Sendable () -> Void = {
                        _ = state.withLockedValue { $0.pairs.removeValue(forKey: ObjectIdentifier(pair)) }
                    }
                    do {
                        try inbound.pipeline.syncOperations.addHandler(RelayHandler(pair: pair, toward: outbound))
                        try outbound.pipeline.syncOperations.addHandler(RelayHandler(pair: pair, toward: inbound))
                    } catch {
                        pair.closeBoth()
                        forget()
                        return inbound.eventLoop.makeFailedFuture(error)
                    }
                    inbound.closeFuture.and(outbound.closeFuture).whenComplete { _ in forget() }
                    if cut { pair.hold() } else { pair.release() }
                    return inbound.eventLoop.makeSucceededVoidFuture()
                }.flatMapErrorThrowing { error in
                    inbound.close(promise: nil)
                    throw error
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = server.localAddress?.port else { throw FaultProxyError() }
        return FaultProxy(port: port, server: server, state: state)
    }

    /// Stops forwarding and accepting, closing nothing.
    func cut() {
        let pairs = state.withLockedValue { state -> [ProxiedPair] in
            state.cut = true
            return Array(state.pairs.values)
        }
        server.setOption(.autoRead, value: false).whenComplete { _ in }
        for pair in pairs { pair.hold() }
    }

    /// Forwards and accepts again; what waited in the buffers flows on.
    func resume() {
        let pairs = state.withLockedValue { state -> [ProxiedPair] in
            state.cut = false
            return Array(state.pairs.values)
        }
        server.setOption(.autoRead, value: true).whenComplete { _ in }
        for pair in pairs where !pair.isForgotten { pair.release() }
    }

    /// Forgets every existing connection: the database's side is closed, the node's side stays open and
    /// silent for good. New connections go through.
    func forgetConnections() {
        let pairs = state.withLockedValue { Array($0.pairs.values) }
        for pair in pairs { pair.forget() }
    }

    /// Closes the listening socket and every connection.
    func stop() async {
        let pairs = state.withLockedValue { Array($0.pairs.values) }
        try? await server.close()
        for pair in pairs { pair.closeBoth() }
    }
}

struct FaultProxyError: Error {}

/// One proxied connection: the node's side (`inbound`) and the database's side (`outbound`).
private final class ProxiedPair: Sendable {
    let inbound: any Channel
    let outbound: any Channel
    private let state = NIOLockedValueBox(PairState())

    private struct PairState {
        var forgotten = false
        var holding = false
        /// What arrived while held, with the side it goes to, in order.
        var held: [(toward: any Channel, data: ByteBuffer)] = []
    }

    init(inbound: any Channel, outbound: any Channel) {
        self.inbound = inbound
        self.outbound = outbound
    }

    var isForgotten: Bool { state.withLockedValue { $0.forgotten } }

    /// Forwards `data` to `peer`, or keeps it while held; drops it once forgotten.
    func relay(_ data: ByteBuffer, toward peer: any Channel) {
        let forward = state.withLockedValue { state -> Bool in
            if state.forgotten { return false }
            if state.holding {
                state.held.append((peer, data))
                return false
            }
            return true
        }
        if forward { peer.writeAndFlush(data, promise: nil) }
    }

    /// Stops forwarding and reading.
    func hold() {
        state.withLockedValue { $0.holding = true }
        setReading(false)
    }

    /// Sends what was held, in order, then forwards and reads again.
    func release() {
        let held = state.withLockedValue { state -> [(toward: any Channel, data: ByteBuffer)] in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for (peer, data) in held { peer.writeAndFlush(data, promise: nil) }
        setReading(true)
    }

    private func setReading(_ reading: Bool) {
        inbound.setOption(.autoRead, value: reading).whenComplete { _ in }
        outbound.setOption(.autoRead, value: reading).whenComplete { _ in }
    }

    func forget() {
        state.withLockedValue {
            $0.forgotten = true
            $0.held = []
        }
        inbound.setOption(.autoRead, value: false).whenComplete { _ in }
        outbound.close(promise: nil)
    }

    /// One side closed: the other follows, unless the pair was forgotten (then the node's side stays silent).
    func sideClosed() {
        guard !isForgotten else { return }
        closeBoth()
    }

    func closeBoth() {
        inbound.close(promise: nil)
        outbound.close(promise: nil)
    }
}

/// Copies what one side sends to the other side.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let pair: ProxiedPair
    private let peer: any Channel

    init(pair: ProxiedPair, toward peer: any Channel) {
        self.pair = pair
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pair.relay(unwrapInboundIn(data), toward: peer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pair.sideClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
