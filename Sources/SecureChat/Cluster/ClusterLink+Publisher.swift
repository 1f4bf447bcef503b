import NIOCore
import PostgresNIO

/// What waits for the next batch: a room line, or a presence change of a member of this node. Presence
/// travels in the same batches as the lines, in the same transaction, so no node ever sees "bob left" before
/// it knows bob is gone.
struct OutgoingLine: Sendable {
    enum Kind: Sendable {
        case line(room: String, row: StoredEvent.Row, except: Int64)
        case moved(nameKey: String, room: String)
        case left(nameKey: String)
        /// Nothing to commit: its receipt says that everything queued before it is committed.
        case barrier
    }

    let kind: Kind
    /// Resolved at commit for chat lines; nil for notices and presence, which are kept and retried while the
    /// link is down.
    let receipt: CommitReceipt?
}

/// Room lines out: whatever arrived while the previous batch was committing goes in the next, so a busy
/// room costs one commit (one disk flush, one notification) per batch rather than per line.
extension ClusterLink {
    /// Queues a room event for the next commit. It reaches this node's members too only once committed, through
    /// the listener, in the room's order. A confirmed one (a chat line) is refused at once while the link is down,
    /// and its receipt says how the commit went; an unconfirmed one (a notice) is kept and sent when the link is
    /// back. An event with no stored form (see `StoredEvent.Row`) is not a room event and is dropped.
    public func append(_ event: ChatEvent, to room: RoomName, except: ConnectionID?, confirmed: Bool) -> RoomLogAppend {
        let receipt = confirmed ? CommitReceipt() : nil
        guard let row = StoredEvent.Row(event) else {
            receipt?.resolve(.notSent)
            return .pending(receipt)
        }
        queue(
            OutgoingLine(
                kind: .line(room: room.value, row: row, except: Int64(bitPattern: except?.value ?? 0)),
                receipt: receipt))
        return .pending(receipt)
    }

    public func moved(_ name: Username, to room: RoomName) {
        queue(OutgoingLine(kind: .moved(nameKey: name.key, room: room.value), receipt: nil))
    }

    public func released(_ name: Username) {
        queue(OutgoingLine(kind: .left(nameKey: name.key), receipt: nil))
    }

    /// Returns true once every departure and line queued so far is committed; false when the link is down or
    /// the commit failed. A log-in that takes a name over waits for it: a departure of the name committed
    /// after the take-over would delete the new holder's presence row.
    func queuedCommitted() async -> Bool {
        let receipt = CommitReceipt()
        queue(OutgoingLine(kind: .barrier, receipt: receipt))
        return await receipt.outcome == .committed
    }

    private func queue(_ outgoing: OutgoingLine) {
        let receipt = outgoing.receipt
        let accepted = state.withLockedValue { state -> Bool in
            if receipt != nil, !state.link.isLive { return false }
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
            while !Task.isCancelled, let batch = nextBatch() {
                // Never cut short by cancellation (its deadline bounds it): a commit abandoned halfway might still
                // land, and its notices, queued again for `retire`, would then be committed twice.
                await Task { await self.commit(batch) }.value
            }
        }
    }

    private func nextBatch() -> [OutgoingLine]? {
        state.withLockedValue { state in
            guard state.link.mayCommit, !state.outgoing.isEmpty else { return nil }
            let count = min(Self.batchLimit, state.outgoing.count)
            let batch = Array(state.outgoing.prefix(count))
            state.outgoing.removeFirst(count)
            return batch
        }
    }

    private func commit(_ batch: [OutgoingLine]) async {
        let started = ContinuousClock.now
        do {
            var rooms: [String] = []
            var excepts: [Int64] = []
            var kinds: [String] = []
            var names: [String] = []
            var texts: [String] = []
            var left: [String] = []
            var moved: [String] = []
            var movedTo: [String] = []
            for item in batch {
                switch item.kind {
                case .line(let room, let row, let except):
                    rooms.append(room)
                    kinds.append(row.kind)
                    names.append(row.senderName)
                    texts.append(row.body)
                    excepts.append(except)
                case .moved(let key, let room):
                    moved.append(key)
                    movedTo.append(room)
                case .left(let key):
                    left.append(key)
                case .barrier:
                    break
                }
            }
            let publishingAs = incarnation
            // A node that retires (from a live link) has already left the table (`securechat_retire` deletes its
            // row and returns its members): its last notices, its users' departures, go unfenced.
            let retiring = state.withLockedValue { $0.link.phase == .stopping(wasLive: true) }
            let committed = try await publisherConnection.run {
                [logger, nodeName, rooms, excepts, kinds, names, texts, left, moved, movedTo, retiring] connection in
                // Fenced: committed only while this incarnation is registered and not declared down (or retiring).
                // The share lock makes a concurrent sweep wait for this batch, or this batch see its verdict.
                var committed = false
                let publish: PostgresQuery =
                    retiring
                    ? """
                    SELECT securechat_publish(\(nodeName), \(rooms)::text[], \(excepts)::bigint[], \(kinds)::text[],
                        \(names)::text[], \(texts)::text[], \(left)::text[], \(moved)::text[], \(movedTo)::text[])
                    """
                    : """
                    SELECT securechat_publish(\(nodeName), \(rooms)::text[], \(excepts)::bigint[], \(kinds)::text[],
                        \(names)::text[], \(texts)::text[], \(left)::text[], \(moved)::text[], \(movedTo)::text[])
                    FROM (SELECT 1 FROM securechat_nodes
                        WHERE name = \(nodeName) AND incarnation = \(publishingAs) AND NOT declared_dead
                        FOR SHARE) AS alive
                    """
                for try await _ in try await connection.query(publish, logger: logger) {
                    committed = true
                }
                return committed
            }
            guard committed else {
                // Declared down: nothing this incarnation queued may be committed any more.
                for line in batch { line.receipt?.resolve(.notSent) }
                await lostPlace(incarnation: publishingAs)
                return
            }
            metrics.commitDuration.record(ContinuousClock.now - started)
            metrics.batches.increment()
            metrics.committedLines.increment(by: Int64(rooms.count))
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
        while NIODeadline.now() < deadline, state.withLockedValue({ !$0.outgoing.isEmpty && $0.link.mayCommit }) {
            if let batch = nextBatch() { await commit(batch) }
        }
    }
}
