// Here rather than in Protocol/: a close reason is a protocol value, and which counter it bumps is the operators'
// business, so Protocol/ does not know ServerCounters.
extension CloseReason {
    /// The operator counter this reason bumps when it closes a connection.
    var counter: ServerCounters.Event? {
        switch self {
        case .sendQueueOverflow: return .outboxOverflow
        case .writeTimeout: return .writeTimeout
        case .idleTimeout: return .idleTimeout
        case .loginTimeout: return .loginTimeout
        case .flooding: return .floodDisconnect
        case .tlsOnPlaintextPort: return .tlsOnPlaintextPort
        default: return nil
        }
    }
}
