import Logging
import NIOCore
import Testing

@testable import SecureChat

/// A hub with in-memory outboxes, for the second security review's hub-level tests (issue 24).
struct ReviewHub {
    let hub: Hub

    init(bans: BanStore? = nil, _ configure: (inout HubConfiguration) -> Void = { _ in }) {
        var logger = Logger(label: "review-hub-test")
        logger.logLevel = .critical
        var configuration = HubConfiguration()
        configure(&configuration)
        hub = Hub(configuration: configuration, bans: bans, logger: logger)
    }

    /// Logs `name` in as connection `id` from `address`; returns its outbox.
    @discardableResult
    func login(
        _ name: String, id: UInt64, address: String? = nil, fingerprint: String? = nil
    ) async throws -> MemoryOutbox {
        let outbox = MemoryOutbox()
        let info = ClientInfo(
            id: ConnectionID(id), address: address ?? "192.0.2.\(id % 250)", transport: .plaintext,
            connectedAt: .now(), certificateFingerprint: fingerprint
        )
        let outcome = await hub.login(info, name: try Username.validate(name).get(), outbox: outbox)
        guard case .loggedIn = outcome else { throw LoginRefused(name: name, outcome: outcome) }
        return outbox
    }

    func ask(_ request: HubRequest, from id: UInt64) async -> HubReply {
        await hub.handle(request, from: ConnectionID(id))
    }

    /// The lines a user reads for a reply, as the session's state machine renders them.
    static func rendered(_ reply: HubReply) -> [String] {
        var machine = SessionStateMachine(
            settings: SessionSettings(maximumLineBytes: 2048, throttle: LineThrottle(), tlsPort: nil),
            transport: .plaintext, connectedAt: .now()
        )
        return machine.receive(reply).compactMap { action in
            guard case .show(let event) = action else { return nil }
            var line = LineRenderer.render(event)
            return line.readString(length: line.readableBytes - 1)
        }
    }

    struct LoginRefused: Error {
        let name: String
        let outcome: LoginOutcome
    }
}
