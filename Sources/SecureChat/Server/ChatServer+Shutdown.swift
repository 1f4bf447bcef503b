import NIOCore

extension ChatServer {
    /// Starts a graceful shutdown: stop accepting, tell every connected user, let outboxes drain (TLS links
    /// get close_notify), and after `configuration.shutdownGrace` close whatever is left. `run()` returns once
    /// every connection is gone. Calling it again does nothing.
    public func shutdown() {
        let first = context.accepting.withLockedValue { accepting in
            defer { accepting = false }
            return accepting
        }
        guard first else { return }
        let outboxes = context.connections.withLockedValue { Array($0.outboxes.values) }
        logger.notice("shutting down", metadata: ["connections": "\(outboxes.count)"])
        for listener in listeners {
            listener.socket.close()
        }
        let notice = ChatEvent.notice("The server is shutting down. Goodbye!")
        let hub = self.hub
        Task {
            // First the hub stops announcing departures and passing the operator role: everyone is leaving.
            await hub.beginShutdown()
            for outbox in outboxes {
                outbox.send(notice)
                outbox.close(reason: .serverShutdown)
            }
        }
        let connections = context.connections
        context.group.next().scheduleTask(in: configuration.shutdownGrace) {
            for outbox in connections.withLockedValue({ Array($0.outboxes.values) }) {
                outbox.abort(reason: .serverShutdown)
            }
        }
    }

    /// `/healthz` and `/metrics`.
    static func monitoringResponse(path: String, _ context: ServerContext) async -> MetricsHTTPServer.Response {
        switch path {
        case "/metrics":
            let statistics = await context.hub.currentStatistics()
            return .init(
                status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: context.metrics.exposition(hub: statistics)
            )
        case "/healthz":
            if context.isAccepting {
                return .init(status: .ok, contentType: "text/plain", body: Array("ok\n".utf8))
            }
            return .init(status: .serviceUnavailable, contentType: "text/plain", body: Array("shutting down\n".utf8))
        default:
            return .init(status: .notFound, contentType: "text/plain", body: Array("try /metrics or /healthz\n".utf8))
        }
    }
}
