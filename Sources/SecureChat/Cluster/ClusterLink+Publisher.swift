import NIOCore
import PostgresNIO

/// A room line waiting to be committed.
struct OutgoingLine: Sendable {
    let room: String
    let text: String
    /// The sender's connection on this node, which must not get the line back (0: none).
    let except: Int64
    /// Resolved at commit for chat lines; nil for notices, which are kept and retried while the link is down.
    let receipt: CommitReceipt?
}

/// Room lines out: whatever arrived while the previous batch was committing goes in the next, so a busy
/// room costs one commit (one disk flush, one notification) per batch rather than per line.
extension ClusterLink {
    public func publish(room: RoomName, line: ByteBuffer, except: ConnectionID?, receipt: CommitReceipt?) {
        let outgoing = OutgoingLine(
            room: room.value, text: String(buffer: line), except: Int64(bitPattern: except?.value ?? 0),
            receipt: receipt)
        let accepted = state.withLockedValue { state -> Bool in
            if receipt != nil, !state.linked { return false }
            if receipt == nil, state.outgoing.count >= Self.outgoingLimit {
                // A long outage: the oldest notice gives way, so the queue stays bounded.
                state.outgoing.remove(at: state.outgoing.firstIndex { $0.receipt == nil } ?? 0)
            }
            state.outgoing.append(outgoing)
            return true
        }
        guard accepted else {
            receipt?.resolve(.notSent)
            return
        }
        publisherWakeUps.yield()
    }

    /// Commits batches as long as there are lines and the link is up.
    func publishLoop() async {
        for await _ in publisherSignals {
            while let batch = nextBatch() {
                await commit(batch)
            }
        }
    }

    private func nextBatch() -> [OutgoingLine]? {
        state.withLockedValue { state in
            guard state.linked, !state.outgoing.isEmpty else { return nil }
            let count = min(Self.batchLimit, state.outgoing.count)
            let batch = Array(state.outgoing.prefix(count))
            state.outgoing.removeFirst(count)
            return batch
        }
    }

    private func commit(_ batch: [OutgoingLine]) async {
        let started = ContinuousClock.now
        do {
            try await publisherConnection.run { [nodeName] connection in
                let rooms = batch.map(\.room)
                let excepts = batch.map(\.except)
                let texts = batch.map(\.text)
                try await connection.query(
                    "SELECT securechat_publish(\(nodeName), \(rooms), \(excepts), \(texts))", logger: self.logger)
            }
            metrics.commitDuration.record(ContinuousClock.now - started)
            metrics.batches.increment()
            metrics.committedLines.increment(by: Int64(batch.count))
            for line in batch { line.receipt?.resolve(.committed) }
        } catch {
            logger.warning(
                "could not commit room lines",
                metadata: ["lines": "\(batch.count)", "error": "\(ClusterError.reason(error))"])
            // A refusal by the server means nothing was committed; a broken connection leaves it unknown.
            let outcome: CommitOutcome = (error as? PSQLError)?.code == .server ? .notSent : .uncertain
            for line in batch { line.receipt?.resolve(outcome) }
            let notices = batch.filter { $0.receipt == nil }
            state.withLockedValue { state in state.outgoing.insert(contentsOf: notices, at: 0) }
            // The listener decides whether the link is down (and tells everyone); here, only no busy retrying.
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// At shutdown: waits (a little) for queued lines to be committed.
    func drainPublisher(timeout: TimeAmount) async {
        let deadline = NIODeadline.now() + timeout
        while NIODeadline.now() < deadline, state.withLockedValue({ !$0.outgoing.isEmpty && $0.linked }) {
            if let batch = nextBatch() { await commit(batch) }
        }
    }
}
