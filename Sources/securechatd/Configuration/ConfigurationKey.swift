/// One setting of `securechatd`: its long flag's name, which is also its key in the configuration file and, as
/// `SECURECHAT_<NAME>`, its environment variable.
struct ConfigurationKey {
    /// Whether a SIGHUP may change the setting of a running server.
    enum Reload: Sendable {
        case reloadable
        case restartOnly
    }

    /// The flag's long name, e.g. `max-line`.
    let name: String
    let rule: ValueRule
    let reload: Reload
    /// Never printed, logged or shown in an error (`<redacted>` instead).
    let isSecret: Bool
    /// The parsed command's field holding the effective value (it keeps ArgumentParser's default).
    let field: PartialKeyPath<SecureChatDaemon>

    init(
        _ name: String, _ rule: ValueRule, _ reload: Reload, _ field: PartialKeyPath<SecureChatDaemon>,
        secret: Bool = false
    ) {
        self.name = name
        self.rule = rule
        self.reload = reload
        self.field = field
        self.isSecret = secret
    }

    /// `SECURECHAT_MAX_LINE` for `max-line`.
    var environmentName: String {
        ConfigurationKey.environmentPrefix
            + name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    static let environmentPrefix = "SECURECHAT_"

    static func named(_ name: String) -> ConfigurationKey? { all.first { $0.name == name } }
}

extension ConfigurationKey {
    /// Every setting, in the order of `--help`. (Computed: key paths are not `Sendable`.)
    static var all: [ConfigurationKey] {
        [
            // Listeners and certificates
            .init("host", .text, .restartOnly, \.listeners.host),
            .init("port", OptionBounds.port, .restartOnly, \.listeners.port),
            .init("tls-port", OptionBounds.port, .restartOnly, \.listeners.tlsPort),
            .init("no-tls", .flag, .restartOnly, \.listeners.noTLS),
            .init("cert", .text, .reloadable, \.listeners.cert),
            .init("key", .text, .reloadable, \.listeners.key),
            .init("client-ca", .text, .reloadable, \.listeners.clientCA),
            .init("client-certs", .text, .reloadable, \.listeners.clientCertificates),
            .init("no-web", .flag, .restartOnly, \.listeners.noWeb),
            .init("web-origin", .list, .restartOnly, \.listeners.webOrigins),
            .init("certs-dir", .text, .restartOnly, \.listeners.certsDirectory),
            // Rooms, history and operators
            .init("history", OptionBounds.zeroOrMore, .restartOnly, \.hub.history),
            .init("max-rooms", OptionBounds.oneOrMore, .reloadable, \.hub.maxRooms),
            .init("ban-file", .text, .restartOnly, \.hub.banFile),
            .init("account-file", .text, .restartOnly, \.hub.accountFile),
            .init("operator-account", .list, .reloadable, \.hub.operatorAccounts),
            .init("operator-fingerprint", .list, .reloadable, \.hub.operatorFingerprints),
            .init("announce-limit", OptionBounds.zeroOrMore, .reloadable, \.hub.announceLimit),
            // Limits and timeouts
            .init("max-line", OptionBounds.maxLine, .restartOnly, \.limits.maxLine),
            .init("outbox-bytes", OptionBounds.outboxBytes, .restartOnly, \.limits.outboxBytes),
            .init("rate", OptionBounds.rate, .reloadable, \.limits.rate),
            .init("burst", OptionBounds.oneOrMore, .reloadable, \.limits.burst),
            .init("flood-refusals", OptionBounds.zeroOrMore, .reloadable, \.limits.floodRefusals),
            .init("flood-window", OptionBounds.seconds(), .reloadable, \.limits.floodWindow),
            .init("max-connections", OptionBounds.oneOrMore, .restartOnly, \.limits.maxConnections),
            .init("max-per-address", OptionBounds.oneOrMore, .reloadable, \.limits.maxPerAddress),
            .init("max-connections-per-ipv6-48", OptionBounds.zeroOrMore, .reloadable, \.limits.maxPerIPv6Network),
            .init("connect-rate", OptionBounds.rate, .reloadable, \.limits.connectRate),
            .init("connect-burst", OptionBounds.oneOrMore, .reloadable, \.limits.connectBurst),
            .init("login-timeout", OptionBounds.seconds(), .reloadable, \.limits.loginTimeout),
            .init("write-timeout", OptionBounds.seconds(), .reloadable, \.limits.writeTimeout),
            .init("send-buffer", OptionBounds.sendBuffer, .restartOnly, \.limits.sendBuffer),
            .init("keepalive-idle", OptionBounds.keepaliveSeconds, .restartOnly, \.limits.keepaliveIdle),
            .init("keepalive-interval", OptionBounds.keepaliveSeconds, .restartOnly, \.limits.keepaliveInterval),
            .init("keepalive-probes", OptionBounds.keepaliveProbes, .restartOnly, \.limits.keepaliveProbes),
            .init("idle-timeout", OptionBounds.seconds(), .reloadable, \.limits.idleTimeout),
            .init("connect-rate-per-ipv6-48", OptionBounds.rate, .reloadable, \.limits.connectRatePerIPv6Network),
            .init("tls-handshake-rate", OptionBounds.rate, .restartOnly, \.limits.fullHandshakeRate),
            .init("tls-handshake-burst", OptionBounds.oneOrMore, .restartOnly, \.limits.fullHandshakeBurst),
            // Shared budgets
            .init("address-rate", OptionBounds.rate, .restartOnly, \.budgets.addressRate),
            .init("address-byte-rate", OptionBounds.rate, .restartOnly, \.budgets.addressByteRate),
            .init("room-create-rate", OptionBounds.rate, .restartOnly, \.budgets.roomCreateRate),
            .init("history-bytes", OptionBounds.zeroOrMore, .restartOnly, \.budgets.historyBytes),
            .init("history-total-bytes", OptionBounds.zeroOrMore, .restartOnly, \.budgets.historyTotalBytes),
            // Operations
            .init("log-level", OptionBounds.logLevel, .reloadable, \.operations.logLevel),
            .init("log-format", OptionBounds.logFormat, .restartOnly, \.operations.logFormat),
            .init("log-messages", .flag, .reloadable, \.operations.logMessages),
            .init("metrics-port", OptionBounds.port, .restartOnly, \.operations.metricsPort),
            .init("metrics-host", .text, .restartOnly, \.operations.metricsHost),
            .init("shutdown-grace", OptionBounds.seconds(minimum: 0), .restartOnly, \.operations.shutdownGrace),
            .init("event-loops", OptionBounds.eventLoops, .restartOnly, \.operations.eventLoops),
            // Several nodes as one chat
            .init("cluster", .text, .restartOnly, \.cluster.url, secret: true),
            .init("cluster-url-file", .text, .restartOnly, \.cluster.urlFile),
            .init("node-name", .text, .restartOnly, \.cluster.nodeName),
            .init("incarnation-file", .text, .restartOnly, \.cluster.incarnationFile),
            .init("node-timeout", OptionBounds.nodeTimeout, .restartOnly, \.cluster.nodeTimeout),
        ]
    }
}
