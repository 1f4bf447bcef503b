import NIOCore

/// Counters shared by all benchmark connections of one event loop. Only touched on that loop, so the hot
/// path takes no lock; the scenario reads them by submitting work to the loop (see ``ShardSet``).
public final class LoopShard {
    /// Benchmark chat lines received (deliveries).
    public var deliveries = 0
    /// Monotonic time of the first and last delivery, nanoseconds; 0 before any.
    public var firstDeliveryNanos: UInt64 = 0
    public var lastDeliveryNanos: UInt64 = 0
    /// Latencies, when the scenario measures them.
    public var latency = LatencyRecorder()
    public var recordsLatency = false
    /// With several targets: deliveries whose sender talked to another target than the receiver, and the
    /// others, with their latencies apart (recorded with ``recordsLatency``).
    public var crossDeliveries = 0
    public var sameDeliveries = 0
    public var crossLatency = LatencyRecorder()
    public var sameLatency = LatencyRecorder()
    /// Connections that closed while the scenario still needed them.
    public var unexpectedCloses = 0
    /// The first few errors seen (TLS failures, server error lines), for the report.
    public private(set) var errors: [String] = []
    public var errorCount = 0

    public init() {}

    public func noteError(_ text: String) {
        errorCount += 1
        if errors.count < 5 { errors.append(text) }
    }

    func noteDelivery(at now: UInt64) {
        deliveries += 1
        if firstDeliveryNanos == 0 { firstDeliveryNanos = now }
        lastDeliveryNanos = now
    }

    /// A delivery of a line sent at `sent`; `crossed` says whether it went from one target to another
    /// (`nil` with a single target).
    func noteDelivery(at now: UInt64, sent: UInt64, crossed: Bool?) {
        noteDelivery(at: now)
        let measured = recordsLatency && now > sent
        if measured { latency.record(nanoseconds: now - sent) }
        switch crossed {
        case .some(true):
            crossDeliveries += 1
            if measured { crossLatency.record(nanoseconds: now - sent) }
        case .some(false):
            sameDeliveries += 1
            if measured { sameLatency.record(nanoseconds: now - sent) }
        case .none:
            break
        }
    }

    /// A copy of the counters that may leave the loop.
    public var snapshot: ShardSnapshot {
        var snapshot = ShardSnapshot(
            deliveries: deliveries, firstDeliveryNanos: firstDeliveryNanos, lastDeliveryNanos: lastDeliveryNanos,
            latency: latency, unexpectedCloses: unexpectedCloses, errors: errors, errorCount: errorCount
        )
        snapshot.crossDeliveries = crossDeliveries
        snapshot.sameDeliveries = sameDeliveries
        snapshot.crossLatency = crossLatency
        snapshot.sameLatency = sameLatency
        return snapshot
    }
}

/// The counters of one or more ``LoopShard``s, merged.
public struct ShardSnapshot: Sendable {
    public var deliveries = 0
    public var firstDeliveryNanos: UInt64 = 0
    public var lastDeliveryNanos: UInt64 = 0
    public var latency = LatencyRecorder()
    public var crossDeliveries = 0
    public var sameDeliveries = 0
    public var crossLatency = LatencyRecorder()
    public var sameLatency = LatencyRecorder()
    public var unexpectedCloses = 0
    public var errors: [String] = []
    public var errorCount = 0

    public init() {}

    init(
        deliveries: Int, firstDeliveryNanos: UInt64, lastDeliveryNanos: UInt64, latency: LatencyRecorder,
        unexpectedCloses: Int, errors: [String], errorCount: Int
    ) {
        self.deliveries = deliveries
        self.firstDeliveryNanos = firstDeliveryNanos
        self.lastDeliveryNanos = lastDeliveryNanos
        self.latency = latency
        self.unexpectedCloses = unexpectedCloses
        self.errors = errors
        self.errorCount = errorCount
    }

    public mutating func merge(_ other: ShardSnapshot) {
        deliveries += other.deliveries
        if other.firstDeliveryNanos != 0 {
            firstDeliveryNanos =
                firstDeliveryNanos == 0 ? other.firstDeliveryNanos : min(firstDeliveryNanos, other.firstDeliveryNanos)
        }
        lastDeliveryNanos = max(lastDeliveryNanos, other.lastDeliveryNanos)
        latency.merge(other.latency)
        crossDeliveries += other.crossDeliveries
        sameDeliveries += other.sameDeliveries
        crossLatency.merge(other.crossLatency)
        sameLatency.merge(other.sameLatency)
        unexpectedCloses += other.unexpectedCloses
        errors.append(contentsOf: other.errors.prefix(max(0, 5 - errors.count)))
        errorCount += other.errorCount
    }
}

/// One ``LoopShard`` per event loop of the client's group.
public struct ShardSet: Sendable {
    private let shards: [ObjectIdentifier: NIOLoopBound<LoopShard>]
    private let loops: [any EventLoop]

    private init(shards: [ObjectIdentifier: NIOLoopBound<LoopShard>], loops: [any EventLoop]) {
        self.shards = shards
        self.loops = loops
    }

    /// Makes one shard on each loop of `group` (each is created on its own loop).
    public static func make(group: any EventLoopGroup) async throws -> ShardSet {
        var shards: [ObjectIdentifier: NIOLoopBound<LoopShard>] = [:]
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() {
            shards[ObjectIdentifier(loop)] = try await loop.submit { NIOLoopBound(LoopShard(), eventLoop: loop) }.get()
            loops.append(loop)
        }
        return ShardSet(shards: shards, loops: loops)
    }

    /// The shard of `loop`; call on that loop.
    public func shard(for loop: any EventLoop) -> LoopShard {
        guard let bound = shards[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop not part of the benchmark's group")
        }
        return bound.value
    }

    /// Runs `body` on every loop with its shard.
    public func forEach(_ body: @escaping @Sendable (LoopShard) -> Void) async throws {
        for loop in loops {
            let bound = shards[ObjectIdentifier(loop)]!
            try await loop.submit { body(bound.value) }.get()
        }
    }

    /// Merged counters of every loop.
    public func snapshot() async throws -> ShardSnapshot {
        var total = ShardSnapshot()
        for loop in loops {
            let bound = shards[ObjectIdentifier(loop)]!
            total.merge(try await loop.submit { bound.value.snapshot }.get())
        }
        return total
    }
}
