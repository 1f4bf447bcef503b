import NIOCore

/// `fanout`: N clients in one room (or spread over R rooms, client `i` in room `i % R`); S of them send M
/// messages of B bytes as fast as the server takes them. Reports deliveries/s and checks that every expected
/// line arrived exactly once and in order per sender, and nowhere outside its room.
public struct FanoutScenario: Sendable {
    public var clients: Int
    public var senders: Int
    public var messages: Int
    public var bytes: Int
    public var rooms: Int

    public init(clients: Int, senders: Int, messages: Int, bytes: Int, rooms: Int = 1) throws(BenchError) {
        guard clients >= 2, senders >= 1, senders <= clients, messages >= 1, bytes >= 1 else {
            throw .invalidOption("fanout needs clients >= 2, 1 <= senders <= clients, messages >= 1, bytes >= 1")
        }
        guard rooms >= 1, clients >= 2 * rooms else {
            throw .invalidOption("fanout needs rooms >= 1 and at least two clients per room")
        }
        self.clients = clients
        self.senders = senders
        self.messages = messages
        self.bytes = bytes
        self.rooms = rooms
    }

    /// The room of client (and sender) `index`.
    public func room(of index: Int) -> Int { index % rooms }

    /// Clients in room `room`.
    public func members(of room: Int) -> Int { (clients - room + rooms - 1) / rooms }

    /// Deliveries the run must produce: every message at every client of its room but its sender.
    public var expectedDeliveries: Int {
        (0..<senders).reduce(0) { $0 + messages * (members(of: room(of: $1)) - 1) }
    }

    public func run(_ env: BenchEnvironment) async throws -> BenchResult {
        let (senders, messages) = (self.senders, self.messages)
        let prefix = env.namePrefix
        env.progress.say("connecting \(clients) clients (\(env.transport), \(env.targets.count) target(s))")
        let connections = try await ConnectionPool.connectAll(
            count: clients, concurrency: env.loginConcurrency, progress: env.progress
        ) { [self] index in
            env.connector.connect(index: index, name: "\(prefix)f\(index)", target: env.target(forClient: index)) {
                handler in
                handler.ledger = ReceiverLedger(
                    senders: senders, messagesPerSender: messages, ownSender: index < senders ? index : nil,
                    hears: { room(of: $0) == room(of: index) }
                )
                env.place(handler, client: index)
            }
        }
        if rooms > 1 {
            // The pong comes after the join: each client is in its room before anyone sends.
            let joins = connections.enumerated().map { index, connection in
                connection.onLoop { [room = room(of: index)] in $0.join("#fanout-\(room)") }
            }
            for join in joins { try await join.get() }
        }
        try await ConnectionPool.barrier(connections, stallTimeout: env.stallTimeout)
        env.progress.say(
            "all logged in, \(rooms) room(s); \(senders) senders x \(messages) messages x \(bytes) B")

        let before = env.sampleServer()
        let clientBefore = env.sampleClient()
        let start = NIODeadline.now()
        let bytes = self.bytes
        let sends = connections.prefix(senders).enumerated().map { index, connection in
            connection.onLoop { $0.sendBurst(sender: index, count: messages, size: bytes) }
        }
        let snapshot = try await env.awaitDeliveries(expectedDeliveries, startedAt: start)
        let after = env.sampleServer()
        let clientAfter = env.sampleClient()
        if snapshot.deliveries < expectedDeliveries {
            // Stalled: a sender whose lines the server stopped reading never finishes its burst; closing the
            // senders ends it (the tally below still counts what arrived).
            await ConnectionPool.closeAll(Array(connections.prefix(senders)))
        }
        for send in sends { _ = try? await send.get() }

        var tally = DeliveryTally()
        for connection in connections {
            let part = try await connection.onLoop { handler in
                handler.eventLoopTally()
            }.get()
            tally.add(part)
        }
        await ConnectionPool.closeAll(connections)

        let end = snapshot.lastDeliveryNanos > 0 ? snapshot.lastDeliveryNanos : NIODeadline.now().uptimeNanoseconds
        let elapsed = Double(end - start.uptimeNanoseconds) / 1e9
        var result = BenchResult(scenario: "fanout", transport: env.transport)
        result.add("clients", "clients", clients)
        result.add("rooms", "rooms", rooms)
        result.add("senders", "senders", senders)
        result.add("messages_per_sender", "messages per sender", messages)
        result.add("message_bytes", "message size", bytes, unit: "B")
        result.add("expected", "expected deliveries", tally.expected)
        result.add("received", "received deliveries", tally.received)
        result.add("missing", "missing", tally.missing)
        result.add("duplicates", "duplicates", tally.duplicates)
        result.add("out_of_order", "out of order", tally.outOfOrder)
        result.add("unexpected", "unexpected lines", tally.unexpected)
        result.add("exactly_once_in_order", "exactly once, in order", tally.isPerfect)
        result.add("seconds", "elapsed (first send to last delivery)", elapsed, unit: "s")
        result.add("deliveries_per_s", "deliveries/s", Double(tally.received) / elapsed)
        if env.isMultiTarget {
            result.addTargetSplit(env, snapshot, elapsed: elapsed)
            result.add("lines_per_s", "lines/s (sent, all delivered)", Double(senders * messages) / elapsed)
        }
        result.addServerCPU(before: before, after: after, elapsed: elapsed)
        result.addClientCPU(before: clientBefore, after: clientAfter, elapsed: elapsed)
        if let before, let after, tally.received > 0 {
            let nanos = (after.cpuSeconds - before.cpuSeconds) * 1e9 / Double(tally.received)
            result.add("server_cpu_ns_per_delivery", "server CPU per delivery", nanos, unit: "ns")
        }
        result.addErrors(snapshot)
        return result
    }
}

extension BenchClientHandler {
    /// This client's ledger as a tally (an empty one if it had none).
    func eventLoopTally() -> EventLoopFuture<DeliveryTally> {
        loginFuture.eventLoop.makeSucceededFuture(ledger?.tally ?? DeliveryTally())
    }
}
