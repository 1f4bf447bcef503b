import PostgresNIO

/// What can go wrong between a node and the cluster's database, said for the operator.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    case schemaTooNew(found: Int, known: Int)
    /// Joining the cluster failed; the text says why, from PostgreSQL's own message when there is one.
    case cannotJoin(String)

    public var description: String {
        switch self {
        case .schemaTooNew(let found, let known):
            return "the cluster database has schema version \(found), newer than this securechatd knows (\(known));"
                + " upgrade this node"
        case .cannotJoin(let reason):
            return "cannot join the cluster: \(reason)"
        }
    }

    /// A readable reason for `error`: postgres-nio hides the server's message from `description` (it could
    /// carry data), so it is taken from the server's fields here; the URL and password never appear.
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)" + (error.underlying.map { " (\($0))" } ?? "")
        }
        return "\(error)"
    }
}
