import NIOCore

/// Everything an operator can set; defaults are DESIGN.md's.
public struct Configuration: Sendable {
    // MARK: Listeners

    /// Address both listeners bind to; `::` is all interfaces, IPv4 and IPv6.
    public var host: String = "::"
    /// Plaintext port; 0 picks a free one (tests).
    public var plaintextPort: Int = 9000
    /// TLS port; `nil` turns the TLS listener off; 0 picks a free one.
    public var tlsPort: Int? = 9443
    /// PEM certificate chain and private key for the TLS listener (required when `tlsPort` is set).
    public var certificatePath: String?
    public var privateKeyPath: String?
    /// When set, clients are asked for a certificate, verified against this CA (PEM); a verified client's
    /// fingerprint shows in `/whois` and can make them an operator.
    public var clientCAPath: String?
    /// `--client-certs any`: ask every TLS client for a certificate and accept any, self-signed included (for
    /// certificate log-in to accounts). Not with `clientCAPath`, which verifies against a CA instead.
    public var anyClientCertificate = false
    /// Browsers and bots on the same ports: the page and the WebSocket (`--no-web`, `--web-origin`).
    public var web = WebSettings()

    // MARK: Hub

    /// Lines of history per room.
    public var historyLines: Int = 50
    /// How many rooms may exist at once.
    public var maximumRooms: Int = 1000
    /// Where bans are kept across restarts; `nil` keeps them in memory only.
    public var banFilePath: String?
    /// Where accounts (registered names) are kept (`--account-file`); `nil` turns accounts off.
    public var accountFilePath: String?
    /// Accounts whose owners are operators once logged in (`--operator-account`, with `--account-file`).
    public var operatorAccounts: [String] = []
    /// Password attempts, registrations and the hashing pool.
    public var accountLimits = AccountLimits()
    /// SHA-256 fingerprints of TLS client certificates whose holders are operators.
    public var operatorFingerprints: [String] = []
    /// Rooms with more members than this do not announce joins and leaves.
    public var announceLimit: Int = 500

    // MARK: Limits

    /// Longest accepted input line in bytes (without the newline).
    public var maximumLineBytes: Int = 2048
    /// Bytes a client's outbox may hold before the client is evicted.
    public var outboxBytes: Int = 1 << 20
    /// The kernel send buffer of every client socket (`SO_SNDBUF`; Linux doubles it for its bookkeeping), or 0
    /// for the kernel's autotuning. A fixed size is what makes the outbox and the write timeout bound a client
    /// that stops reading: with autotuning Linux first grows that client's buffer to `tcp_wmem`'s maximum
    /// (4 MiB on a stock kernel), so a stalled reader held megabytes and stayed for minutes before either
    /// limit began to count (found by the soak). 128 KiB is more than a chat client ever has in flight.
    public var sendBufferBytes: Int = 128 * 1024
    /// Lines per second per client after login (chat, DMs and commands); 0 turns rate limiting off.
    public var ratePerSecond: Double = 5
    /// Lines a client may send at once before the rate applies.
    public var burst: Int = 10
    /// Refused lines within `floodWindow` that disconnect a client; 0 never disconnects.
    public var floodRefusals: Int = 20
    public var floodWindow: TimeAmount = .seconds(10)
    /// Connections at once, all addresses together; `nil` derives it from the open-file limit.
    public var maximumConnections: Int?
    /// Connections at once from one address (IPv6: one /64).
    public var maximumConnectionsPerAddress: Int = 16
    /// Connections at once from one IPv6 /48 (65,536 /64s, often one customer); 0 turns this cap off.
    public var maximumConnectionsPerIPv6Network: Int = ConnectionLimiter.defaultMaxPerIPv6Network
    /// New connections per second from one address (burst `connectBurst`); 0 turns this off.
    public var connectRatePerAddress: Double = 5
    public var connectBurst: Int = 20
    /// New connections per second from one IPv6 /48 (burst four times `connectBurst`); 0 turns this off.
    public var connectRatePerIPv6Network: Double = 20
    /// Full (not resumed) TLS handshakes per second, all clients together (burst `fullHandshakeBurst`); 0 turns
    /// this off. Resumed handshakes are never charged.
    public var fullHandshakeRate: Double = TLSHandshakeBudget.defaultRatePerSecond
    public var fullHandshakeBurst: Int = TLSHandshakeBudget.defaultBurst

    // MARK: Shared budgets (issue 24): what several connections, rooms and users may use together

    /// Lines per second that all connections of one address (IPv6: one /64) may send together after login;
    /// its IPv6 /48 may send `AddressLineBudget.networkFactor` times as much. 0 turns this off.
    public var addressLinesPerSecond: Double = 20
    /// Bytes per second (counted after sanitising) likewise; 0 turns this off.
    public var addressBytesPerSecond: Double = 32 * 1024
    /// History bytes (lines as delivered) kept per room, and in all rooms together.
    public var historyBytesPerRoom: Int = 64 * 1024
    public var historyBytesTotal: Int = 16 << 20
    /// New rooms one address (IPv6: one /64) may open per minute, after a burst of 5; 0 turns this off.
    public var roomsCreatedPerMinute: Double = 2
    /// Direct messages one user may receive per second from everyone together, after a burst of 20; 0: off.
    public var directMessagesPerRecipient: Double = 5

    // MARK: Timeouts

    /// From accept to a valid username (TLS handshake included).
    public var loginTimeout: TimeAmount = .seconds(30)
    /// How long a client's socket may stay unwritable (it stopped reading) before eviction.
    public var writeTimeout: TimeAmount = .seconds(30)
    /// Evict logged-in users who send nothing for this long; `nil` (the default) never does.
    public var idleTimeout: TimeAmount?
    /// TCP keepalive and TCP_USER_TIMEOUT on every accepted socket, to find peers that vanished.
    public var keepalive: KeepaliveSettings = .default
    /// How long a TLS close waits for the peer's close_notify.
    public var tlsShutdownTimeout: TimeAmount = .seconds(5)

    // MARK: Operations

    /// How long a graceful shutdown lets outboxes drain before closing what is left.
    public var shutdownGrace: TimeAmount = .seconds(5)
    /// Port of the HTTP endpoint with `/metrics` and `/healthz`; `nil` (the default) serves none.
    public var metricsPort: Int?
    /// Address of the metrics endpoint: loopback unless the operator says otherwise.
    public var metricsHost: String = "127.0.0.1"
    /// Connections the metrics endpoint holds at once; more are closed at once.
    public var metricsMaximumConnections: Int = MetricsHTTPServer.defaultMaximumConnections
    /// A metrics connection silent this long (nothing read or written) is closed.
    public var metricsIdleTimeout: TimeAmount = MetricsHTTPServer.defaultIdleTimeout
    /// Log chat lines and DMs (off by default: people's messages are theirs).
    public var logMessages = false

    // MARK: Cluster

    /// Several nodes as one chat through PostgreSQL; nil (the default) is a single node, all in memory.
    public var cluster: ClusterConfiguration?

    public init() {}

    /// Bytes a server line may add around a user's text: prefix, names, room, wording and newline. The longest
    /// today, a leave notice carrying its `/quit` reason (`* NAME left #ROOM (quit: REASON)`), adds under 80.
    static let lineOverhead = 128
    /// Bytes a JSON object may add around a user's text: field names, the name and the room (a `left` object has
    /// both twice, in its fields and in its text), quotes and newline. The longest, a `left` object carrying a
    /// `/quit` reason, adds under 200.
    static let jsonOverhead = 256
    /// How many times longer than typed a user's text can be in JSON: a quit reason's quotes and backslashes are
    /// escaped in its leave notice, then again as JSON, so one typed `"` becomes four bytes (`\\\"`).
    static let jsonExpansion = 4
    /// The `[HH:MM:SS] ` mark in front of each replayed history line.
    static let replayMarkBytes = 11
    /// What a replayed event adds in JSON: its `"time"` and `"replayed":true` fields.
    static let jsonReplayMarkBytes = 64
    /// The two notices around a history replay (`* Last N lines of #ROOM:` and `* End of history.`).
    static let replayFramingBytes = 128

    /// The most bytes one line carrying a user's text can take in an outbox. Sanitising can make text longer
    /// than it was typed (an invalid byte becomes the three-byte U+FFFD), so the bound is
    /// `TextSanitizer.maximumExpansion` times `maximumLineBytes`, plus `lineOverhead`.
    /// (Saturates at `Int.max` rather than trapping on absurd settings.)
    public var longestServerLineBytes: Int {
        let text = Self.saturating(maximumLineBytes, times: TextSanitizer.maximumExpansion)
        return Self.saturating(text, plus: Self.lineOverhead)
    }

    /// The most bytes a history replay can put into a newcomer's outbox in one step (saturating at `Int.max`).
    public var longestReplayBytes: Int {
        let line = Self.saturating(longestServerLineBytes, plus: Self.replayMarkBytes)
        return Self.saturating(Self.saturating(max(historyLines, 0), times: line), plus: Self.replayFramingBytes)
    }

    /// The most bytes one JSON object carrying a user's text can take in an outbox (saturating at `Int.max`).
    public var longestJSONLineBytes: Int {
        Self.saturating(Self.saturating(maximumLineBytes, times: Self.jsonExpansion), plus: Self.jsonOverhead)
    }

    /// The most bytes a history replay can put into a JSON client's outbox in one step (saturating at `Int.max`).
    public var longestJSONReplayBytes: Int {
        let line = Self.saturating(longestJSONLineBytes, plus: Self.jsonReplayMarkBytes)
        return Self.saturating(Self.saturating(max(historyLines, 0), times: line), plus: Self.replayFramingBytes)
    }

    /// The outbox of a client that speaks JSON (a WebSocket): `outboxBytes` grown by what JSON can add to the
    /// longest line and the longest replay, so that what `validate` promises for the line protocol (one line,
    /// one replay never overflows an outbox) holds for JSON clients too, whatever `--outbox-bytes` is.
    public var jsonOutboxBytes: Int {
        let line = max(longestServerLineBytes, longestReplayBytes)
        let json = max(longestJSONLineBytes, longestJSONReplayBytes)
        return Self.saturating(outboxBytes, plus: max(0, json - line))
    }

    private static func saturating(_ value: Int, times factor: Int) -> Int {
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? .max : product
    }

    private static func saturating(_ value: Int, plus addend: Int) -> Int {
        let (sum, overflow) = value.addingReportingOverflow(addend)
        return overflow ? .max : sum
    }

    /// Refuses combinations of limits that would break the server at run time, naming the options to change.
    ///
    /// - A line longer than the outbox would evict every recipient of it: one client could empty a room.
    /// - A history replay larger than the outbox would evict every newcomer while they join, once the history
    ///   has filled with long lines: one client could keep everyone out.
    public func validate() throws {
        try validatePorts()
        if anyClientCertificate, clientCAPath != nil {
            throw ConfigurationError(
                "--client-certs any and --client-ca are two ways to ask for client certificates; choose one")
        }
        if cluster != nil, accountFilePath != nil {
            throw ConfigurationError(
                "--account-file keeps accounts on one node; a cluster cannot use it (its nodes would each have their own)"
            )
        }
        if !operatorAccounts.isEmpty, !accountsOn {
            throw ConfigurationError("--operator-account needs accounts: --account-file, or --cluster")
        }
        if let cluster {
            _ = try ClusterURL(cluster.url)
            guard (1...64).contains(cluster.nodeName.utf8.count),
                cluster.nodeName.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 })
            else {
                throw ConfigurationError("--node-name must be 1-64 printable ASCII characters without spaces")
            }
            guard cluster.nodeTimeout >= .milliseconds(500) else {
                throw ConfigurationError(
                    "--node-timeout must be at least 0.5 s (heartbeats come five times per timeout)")
            }
        }
        guard longestServerLineBytes <= outboxBytes else {
            throw ConfigurationError(
                "--max-line \(maximumLineBytes) does not fit --outbox-bytes \(outboxBytes): one chat line can take "
                    + "\(longestServerLineBytes) bytes in an outbox (invalid bytes become 3-byte U+FFFD, plus name "
                    + "and newline), which would evict everyone it is sent to; raise --outbox-bytes or lower --max-line"
            )
        }
        guard longestReplayBytes <= outboxBytes else {
            throw ConfigurationError(
                "--history \(historyLines) lines of up to --max-line \(maximumLineBytes) bytes do not fit "
                    + "--outbox-bytes \(outboxBytes): a history replay can take \(longestReplayBytes) bytes, which "
                    + "would evict newcomers as they join; raise --outbox-bytes or lower --history or --max-line"
            )
        }
    }

    /// Two listeners on one port: the second bind would fail after the first had opened. Said before binding,
    /// naming both flags. (Port 0 picks a free port for each, so it never clashes. The metrics endpoint is refused
    /// a chat port even on another address: `::` covers every address.)
    private func validatePorts() throws {
        let ports: [(flag: String, port: Int?)] = [
            ("--port", plaintextPort), ("--tls-port", tlsPort), ("--metrics-port", metricsPort),
        ]
        for (index, first) in ports.enumerated() {
            guard let port = first.port else { continue }
            guard (0...65535).contains(port) else {
                throw ConfigurationError("\(first.flag) \(port) is not a port (0-65535)")
            }
            for second in ports[(index + 1)...] where port != 0 && second.port == port {
                throw ConfigurationError(
                    "\(first.flag) \(port) and \(second.flag) \(port) are the same port; give each listener its own"
                )
            }
        }
    }

    /// Accounts are on when they have somewhere to live: the account file, or the cluster's database.
    public var accountsOn: Bool { accountFilePath != nil || cluster != nil }

    var hubConfiguration: HubConfiguration {
        HubConfiguration(
            historyLines: historyLines, maximumRooms: maximumRooms, operatorFingerprints: Set(operatorFingerprints),
            operatorAccounts: accountsOn ? Set(operatorAccounts) : [],
            announceLimit: announceLimit, logMessages: logMessages, historyBytesPerRoom: historyBytesPerRoom,
            historyBytesTotal: historyBytesTotal, roomsCreatedPerMinute: roomsCreatedPerMinute,
            directMessagesPerSecond: directMessagesPerRecipient
        )
    }

    var lineThrottle: LineThrottle {
        LineThrottle(
            rateLimiter: RateLimiter(ratePerSecond: ratePerSecond, burst: burst),
            floodGuard: FloodGuard(maxRefusals: floodRefusals, window: floodWindow)
        )
    }
}
