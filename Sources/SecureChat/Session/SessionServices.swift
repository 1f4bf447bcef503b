import Logging

/// What a ``Session`` uses of the server: the hub, the cluster link and the accounts it carries requests to, the
/// counters and the address budget it charges, the logger, and the rules a new machine starts with. The server
/// provides it (`ServerContext`, in Server/); a session names nothing else of the server's.
protocol SessionServices: Sendable {
    var hub: Hub { get }
    /// The link to the other nodes (`--cluster`); nil for a single node.
    var cluster: ClusterLink? { get }
    /// The registered names (`--account-file`); nil when accounts are off.
    var accounts: AccountService? { get }
    var counters: ServerCounters { get }
    /// Lines and bytes per address, shared by its connections.
    var addressBudget: AddressLineBudget { get }
    var logger: Logger { get }
    /// The rules a new connection's machine starts with.
    var sessionSettings: SessionSettings { get }
}
