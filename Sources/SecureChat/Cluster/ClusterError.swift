/// What can go wrong between a node and the cluster's database, said for the operator.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    case schemaTooNew(found: Int, known: Int)

    public var description: String {
        switch self {
        case .schemaTooNew(let found, let known):
            return "the cluster database has schema version \(found), newer than this securechatd knows (\(known));"
                + " upgrade this node"
        }
    }
}
