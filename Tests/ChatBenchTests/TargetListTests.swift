import Testing

@testable import ChatBenchCore

@Suite("--targets: parsing, round-robin assignment, cross-node counting")
struct TargetListTests {
    @Test func parsesHostsAndPorts() throws {
        let list = try TargetList.parse("127.0.0.1:29000, 127.0.0.2:29001,[::1]:29002,localhost:9000")
        #expect(
            list.addresses == [
                .init(host: "127.0.0.1", port: 29000), .init(host: "127.0.0.2", port: 29001),
                .init(host: "::1", port: 29002), .init(host: "localhost", port: 9000),
            ])
        #expect(
            list.addresses.map(\.description) == [
                "127.0.0.1:29000", "127.0.0.2:29001", "[::1]:29002", "localhost:9000",
            ])
        #expect(try TargetList.parse("127.0.0.1:1").count == 1)
    }

    @Test(arguments: [
        "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", "127.0.0.1:9000,",
        ",127.0.0.1:9000", "::1:9000", "[::1]9000", "[::1:9000", "127.0.0.1:9000,127.0.0.1:9000",
    ])
    func malformedIsRefused(spec: String) {
        #expect(throws: BenchError.self) { try TargetList.parse(spec) }
    }

    @Test(arguments: ["10.0.0.1:9000", "127.0.0.1:9000,192.168.1.2:9000", "[2001:db8::1]:9000", "example.com:9000"])
    func nonLoopbackIsRefused(spec: String) {
        #expect(throws: BenchError.self) { try TargetList.parse(spec) }
    }

    @Test func clientsAndSendersGoRoundRobin() {
        let two = TargetAssignment(targets: 2)
        #expect((0..<6).map(two.target(ofClient:)) == [0, 1, 0, 1, 0, 1])
        #expect((0..<5).map(two.target(ofSender:)) == [0, 1, 0, 1, 0])
        #expect(two.clients(5, on: 0) == 3)
        #expect(two.clients(5, on: 1) == 2)
        #expect(two.crosses(sender: 1, receiverTarget: 0))
        #expect(!two.crosses(sender: 2, receiverTarget: 0))
        let one = TargetAssignment(targets: 1)
        #expect((0..<3).map(one.target(ofClient:)) == [0, 0, 0])
        #expect(one.deliveriesPerRound(clients: 10, senders: 3) == (cross: 0, same: 27))
    }

    /// The light load (500 clients, 5 senders) and a few odd sizes: with two or more targets at
    /// least half of all deliveries cross from one target to another.
    @Test(arguments: [(500, 5, 2), (501, 5, 2), (200, 10, 2), (64, 64, 2), (3, 1, 2), (4, 3, 2), (500, 5, 3)])
    func atLeastHalfOfTheDeliveriesCrossNodes(clients: Int, senders: Int, targets: Int) {
        let split = TargetAssignment(targets: targets).deliveriesPerRound(clients: clients, senders: senders)
        #expect(split.cross + split.same == senders * (clients - 1))
        #expect(split.cross * 2 >= split.cross + split.same, "\(split)")
    }

    @Test func exactSplitForTheLightLoad() {
        // Senders 0, 2, 4 on target 0 (250 clients), 1 and 3 on target 1 (250 clients).
        let split = TargetAssignment(targets: 2).deliveriesPerRound(clients: 500, senders: 5)
        #expect(split.same == 5 * 249)
        #expect(split.cross == 5 * 250)
    }

    @Test func shardSplitsDeliveriesAndLatencies() {
        let shard = LoopShard()
        shard.recordsLatency = true
        shard.noteDelivery(at: 2_000_000, sent: 1_000_000, crossed: true)  // 1 ms
        shard.noteDelivery(at: 4_000_000, sent: 1_000_000, crossed: true)  // 3 ms
        shard.noteDelivery(at: 1_500_000, sent: 1_000_000, crossed: false)  // 0.5 ms
        shard.noteDelivery(at: 1_200_000, sent: 1_000_000, crossed: nil)  // single target: counted in total only
        var total = ShardSnapshot()
        total.merge(shard.snapshot)
        total.merge(shard.snapshot)
        #expect(total.deliveries == 8)
        #expect(total.crossDeliveries == 4)
        #expect(total.sameDeliveries == 2)
        #expect(total.latency.count == 8)
        #expect(total.crossLatency.count == 4)
        #expect(abs(total.crossLatency.summary.max - 3.0) < 0.01)
        #expect(abs(total.sameLatency.summary.max - 0.5) < 0.01)
    }

    @Test func withoutLatencyRecordingOnlyCountsAreKept() {
        let shard = LoopShard()
        shard.noteDelivery(at: 2_000_000, sent: 1_000_000, crossed: true)
        #expect(shard.deliveries == 1)
        #expect(shard.crossDeliveries == 1)
        #expect(shard.latency.count == 0)
        #expect(shard.crossLatency.count == 0)
    }
}
