import ArgumentParser
import NIOCore
import SecureChat

/// Every limit on what a client can make the server do.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-line"), help: "Longest accepted input line, in bytes.")
    var maxLine: Int = 2048

    @Option(name: .customLong("outbox-bytes"), help: "Bytes queued for one client before it is evicted.")
    var outboxBytes: Int = 1 << 20

    @Option(name: .long, help: "Lines per second per client after login; 0 turns rate limiting off.")
    var rate: Double = 5

    @Option(name: .long, help: "Lines a client may send at once before the rate applies.")
    var burst: Int = 10

    @Option(
        name: .customLong("flood-refusals"),
        help: "Refused lines within the flood window that disconnect a client (0: never).")
    var floodRefusals: Int = 20

    @Option(name: .customLong("flood-window"), help: "Seconds of the flood window.")
    var floodWindow: Int = 10

    @Option(name: .customLong("max-connections"), help: "Connections at once (default: fitted to the open-file limit).")
    var maxConnections: Int?

    @Option(name: .customLong("max-per-address"), help: "Connections at once from one address (IPv6: one /64).")
    var maxPerAddress: Int = 16

    @Option(
        name: .customLong("max-connections-per-ipv6-48"),
        help: "Connections at once from one IPv6 /48 network (65,536 /64s, often one customer); 0: no such cap."
    )
    var maxPerIPv6Network: Int = ConnectionLimiter.defaultMaxPerIPv6Network

    @Option(name: .customLong("connect-rate"), help: "New connections per second from one address (0: no limit).")
    var connectRate: Double = 5

    @Option(
        name: .customLong("connect-burst"),
        help: "New connections one address may open at once before --connect-rate applies.")
    var connectBurst: Int = 20

    @Option(
        name: .customLong("login-timeout"), help: "Seconds from connect to a valid username, TLS handshake included.")
    var loginTimeout: Int = 30

    @Option(name: .customLong("write-timeout"), help: "Seconds a client may stop reading before eviction.")
    var writeTimeout: Int = 30

    @Option(
        name: .customLong("send-buffer"),
        help: "Kernel send buffer of each client socket, in bytes (0: the kernel's autotuning, up to 4 MiB).")
    var sendBuffer: Int = 128 * 1024

    @Option(name: .customLong("keepalive-idle"), help: "Seconds of silence before TCP keepalive probes a peer.")
    var keepaliveIdle: Int = 60

    @Option(name: .customLong("keepalive-interval"), help: "Seconds between TCP keepalive probes.")
    var keepaliveInterval: Int = 15

    @Option(name: .customLong("keepalive-probes"), help: "Unanswered keepalive probes before a peer is dropped.")
    var keepaliveProbes: Int = 4

    @Option(name: .customLong("idle-timeout"), help: "Seconds without a line before a user is evicted (default: off).")
    var idleTimeout: Int?

    // Connection floods from many addresses (issue 24, point 4).
    @Option(
        name: .customLong("connect-rate-per-ipv6-48"),
        help: "New connections per second from one IPv6 /48 network (burst: 4 x --connect-burst); 0: no limit.")
    var connectRatePerIPv6Network: Double = 20

    @Option(
        name: .customLong("tls-handshake-rate"),
        help: "Full (not resumed) TLS handshakes per second, all clients together; 0: no limit.")
    var fullHandshakeRate: Double = TLSHandshakeBudget.defaultRatePerSecond

    @Option(
        name: .customLong("tls-handshake-burst"),
        help: "Full TLS handshakes at once before --tls-handshake-rate applies.")
    var fullHandshakeBurst: Int = TLSHandshakeBudget.defaultBurst

    /// Each value against its bounds (``OptionBounds``, shared with the configuration file and environment).
    func validate() throws {
        try OptionBounds.rate.check(connectRatePerIPv6Network, flag: "connect-rate-per-ipv6-48")
        try OptionBounds.rate.check(fullHandshakeRate, flag: "tls-handshake-rate")
        try OptionBounds.oneOrMore.check(fullHandshakeBurst, flag: "tls-handshake-burst")
        try OptionBounds.maxLine.check(maxLine, flag: "max-line")
        try OptionBounds.outboxBytes.check(outboxBytes, flag: "outbox-bytes")
        try OptionBounds.sendBuffer.check(sendBuffer, flag: "send-buffer")
        try OptionBounds.rate.check(rate, flag: "rate")
        try OptionBounds.oneOrMore.check(burst, flag: "burst")
        try OptionBounds.zeroOrMore.check(floodRefusals, flag: "flood-refusals")
        try SecondsOption.check(floodWindow, flag: "flood-window")
        if let maxConnections { try OptionBounds.oneOrMore.check(maxConnections, flag: "max-connections") }
        try OptionBounds.oneOrMore.check(maxPerAddress, flag: "max-per-address")
        try OptionBounds.zeroOrMore.check(maxPerIPv6Network, flag: "max-connections-per-ipv6-48")
        try OptionBounds.rate.check(connectRate, flag: "connect-rate")
        try OptionBounds.oneOrMore.check(connectBurst, flag: "connect-burst")
        try OptionBounds.keepaliveSeconds.check(keepaliveIdle, flag: "keepalive-idle")
        try OptionBounds.keepaliveSeconds.check(keepaliveInterval, flag: "keepalive-interval")
        try OptionBounds.keepaliveProbes.check(keepaliveProbes, flag: "keepalive-probes")
        try SecondsOption.check(loginTimeout, flag: "login-timeout")
        try SecondsOption.check(writeTimeout, flag: "write-timeout")
        if let idleTimeout { try SecondsOption.check(idleTimeout, flag: "idle-timeout") }
    }

    func apply(to configuration: inout Configuration) {
        configuration.maximumLineBytes = maxLine
        configuration.outboxBytes = outboxBytes
        configuration.sendBufferBytes = sendBuffer
        configuration.ratePerSecond = rate
        configuration.burst = burst
        configuration.floodRefusals = floodRefusals
        configuration.floodWindow = .seconds(Int64(floodWindow))
        configuration.maximumConnections = maxConnections
        configuration.maximumConnectionsPerAddress = maxPerAddress
        configuration.maximumConnectionsPerIPv6Network = maxPerIPv6Network
        configuration.connectRatePerAddress = connectRate
        configuration.connectBurst = connectBurst
        configuration.connectRatePerIPv6Network = connectRatePerIPv6Network
        configuration.fullHandshakeRate = fullHandshakeRate
        configuration.fullHandshakeBurst = fullHandshakeBurst
        configuration.loginTimeout = .seconds(Int64(loginTimeout))
        configuration.writeTimeout = .seconds(Int64(writeTimeout))
        configuration.idleTimeout = idleTimeout.map { .seconds(Int64($0)) }
        // TCP_USER_TIMEOUT follows: idle + interval x probes, so data in flight to a vanished peer is given up
        // as fast as silence is.
        configuration.keepalive = KeepaliveSettings(
            idle: .seconds(Int64(keepaliveIdle)), interval: .seconds(Int64(keepaliveInterval)),
            probeCount: keepaliveProbes
        )
    }
}
