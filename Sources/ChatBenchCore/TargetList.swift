/// The servers one run spreads its clients over (`--targets host:port,host:port,...`), e.g. the nodes of a
/// cluster. Loopback only, like `--host`.
public struct TargetList: Sendable, Equatable {
    /// One `host:port`.
    public struct Address: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `127.0.0.1:9000`, `[::1]:9000`.
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public let addresses: [Address]

    public init(_ addresses: [Address]) {
        self.addresses = addresses
    }

    public var count: Int { addresses.count }

    /// The assignment of clients to these targets.
    public var assignment: TargetAssignment { TargetAssignment(targets: addresses.count) }

    /// Parses `host:port,host:port,...`: an IPv6 host in brackets (`[::1]:9000`), spaces around commas
    /// allowed. Every host must be loopback (127.0.0.0/8, ::1 or localhost) and every port in 1...65535;
    /// the same target twice is refused (its clients would all count as same-node).
    public static func parse(_ text: String) throws(BenchError) -> TargetList {
        var addresses: [Address] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let word = item.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
            let spec = String(word)
            guard !spec.isEmpty else { throw .invalidOption("--targets: empty entry in '\(text)'") }
            let address = try parseOne(spec)
            guard !addresses.contains(address) else {
                throw .invalidOption("--targets: \(address) is listed twice")
            }
            addresses.append(address)
        }
        return TargetList(addresses)
    }

    private static func parseOne(_ spec: String) throws(BenchError) -> Address {
        let host: Substring
        let portText: Substring
        if spec.hasPrefix("[") {
            guard let close = spec.firstIndex(of: "]"), spec[spec.index(after: close)...].hasPrefix(":") else {
                throw .invalidOption("--targets: '\(spec)' is not [IPv6]:port")
            }
            host = spec[spec.index(after: spec.startIndex)..<close]
            portText = spec[spec.index(close, offsetBy: 2)...]
        } else {
            guard let colon = spec.lastIndex(of: ":"), !spec[..<colon].contains(":") else {
                throw .invalidOption("--targets: '\(spec)' is not host:port (an IPv6 host goes in brackets)")
            }
            host = spec[..<colon]
            portText = spec[spec.index(after: colon)...]
        }
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw .invalidOption("--targets: bad port in '\(spec)'")
        }
        guard AddressRange.isLoopbackHost(String(host)) else {
            throw .invalidOption("--targets: '\(host)' is not a loopback address (127.0.0.0/8, ::1 or localhost)")
        }
        return Address(host: String(host), port: port)
    }
}

/// Which target each client talks to: round robin by client index. The senders of a run are its first
/// clients, so they are spread round robin too, and with two targets at least half of all deliveries cross
/// from one target to the other.
public struct TargetAssignment: Sendable, Equatable {
    public let targets: Int

    public init(targets: Int) {
        precondition(targets >= 1, "at least one target")
        self.targets = targets
    }

    /// The target of client `index`.
    public func target(ofClient index: Int) -> Int { index % targets }

    /// The target of sender `sender` (sender k is client k in every scenario).
    public func target(ofSender sender: Int) -> Int { target(ofClient: sender) }

    /// Whether a line from `sender` reaching a client on `receiverTarget` crossed from one target to another.
    public func crosses(sender: Int, receiverTarget: Int) -> Bool {
        target(ofSender: sender) != receiverTarget
    }

    /// How many clients of `clients` talk to `target`.
    public func clients(_ clients: Int, on target: Int) -> Int {
        clients / targets + (target < clients % targets ? 1 : 0)
    }

    /// The deliveries a room of `clients` would see if each of the first `senders` sent one line, split into
    /// those that cross targets and those that stay on one (a line never comes back to its sender).
    public func deliveriesPerRound(clients: Int, senders: Int) -> (cross: Int, same: Int) {
        var cross = 0
        var same = 0
        for sender in 0..<senders {
            let home = target(ofSender: sender)
            let local = self.clients(clients, on: home) - 1
            same += local
            cross += clients - 1 - local
        }
        return (cross, same)
    }
}
