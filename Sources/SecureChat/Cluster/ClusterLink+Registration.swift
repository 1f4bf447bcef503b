import NIOCore
import PostgresNIO

/// Registering this node under its name, and leaving the cluster at a clean stop.
extension ClusterLink {
    /// Registers this node under a new incarnation. A previous incarnation that died without being declared
    /// down (a crash, then a restart) is declared down now, and its members are announced as lost; when the
    /// incarnation file shows it was this node's own (``IncarnationFile``), that happens at once, whatever its
    /// last heartbeat. Never while the node is stopping: a stopping node does not come back.
    func register() async throws {
        guard !isRetiring else { throw ClusterError.cannotJoin("the node is stopping") }
        let timeout = Int64(configuration.nodeTimeout.nanoseconds / 1_000_000)
        let previous = incarnationFile.previousIncarnation(of: nodeName)
        let registering = incarnation
        let gone = try await workConnection.run { [logger, nodeName] connection in
            try await Self.departures(
                connection.query(
                    """
                    SELECT display_name, room
                    FROM securechat_register(\(nodeName), \(registering), \(timeout), \(previous))
                    """,
                    logger: logger))
        }
        incarnationFile.record(registering, of: nodeName)
        try await agreeOnHistoryLength()
        if previous != nil, !gone.isEmpty {
            logger.notice(
                "took over this node's name from its previous process", metadata: ["members": "\(gone.count)"])
        }
        for (name, room) in gone { announceDeparture(of: name, from: room, reason: .serverLost) }
    }

    /// Whether the node is leaving the cluster (a clean stop): from then on nothing registers it again.
    var isRetiring: Bool {
        state.withLockedValue { state in
            if case .stopping = state.link.phase { return true }
            return false
        }
    }
}
