import ArgumentParser
import ChatBenchCore
import Foundation

/// `chatbench fanout`.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract:
            "N clients in one room; S send M messages of B bytes as fast as possible. Deliveries/s, exactly-once, order."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var protocolOption: ProtocolOption
    @Option(help: "Clients in the room.") var clients = 200
    @Option(help: "How many of them send.") var senders = 10
    @Option(help: "Messages per sender.") var messages = 1000
    @Option(help: "Message text size in bytes.") var bytes = 64
    @Option(help: "Rooms the clients are spread over (client i in room i % rooms; senders likewise).") var rooms = 1

    func run() async throws {
        let scenario = try FanoutScenario(
            clients: clients, senders: senders, messages: messages, bytes: bytes, rooms: rooms)
        try await common.withEnvironment(label: "fanout", proto: protocolOption.proto) { try await scenario.run($0) }
    }
}

/// `chatbench latency`.
struct LatencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "N clients in one room; S send at a fixed rate; delivery latency percentiles (HdrHistogram)."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var protocolOption: ProtocolOption
    @Option(help: "Clients in the room.") var clients = 500
    @Option(help: "How many of them send.") var senders = 5
    @Option(help: "Messages per second per sender.") var rate = 20.0
    @Option(help: "Seconds of sending.") var duration = 10.0
    @Option(help: "Message text size in bytes.") var bytes = 64
    @Option(
        help: ArgumentHelp(
            "Afterwards, write the latency distribution of all deliveries to this file, for bench/plot-latency.sh.",
            discussion: "A '#' header line, then 'percentile latency_ms' per line (percentile 0-100; 100 is the max).",
            valueName: "path"))
    var distribution: String?

    func validate() throws {
        // Refuse a path that cannot be written before the run rather than after it.
        if let distribution {
            let directory = URL(fileURLWithPath: distribution).deletingLastPathComponent().path
            guard FileManager.default.isWritableFile(atPath: directory) else {
                throw ValidationError("--distribution: cannot write to \(directory)")
            }
        }
    }

    func run() async throws {
        let scenario = try LatencyScenario(
            clients: clients, senders: senders, rate: rate, seconds: duration, bytes: bytes
        )
        var latency: LatencyRecorder?
        try await common.withEnvironment(label: "latency", proto: protocolOption.proto) {
            let measurement = try await scenario.measure($0)
            latency = measurement.latency
            return measurement.result
        }
        // After the result is printed, so that a failed write does not lose the run's figures.
        if let distribution, let latency {
            let command = CommandLine.arguments.map(CommonOptions.shellQuoted).joined(separator: " ")
            try LatencyDistribution(latency).text(note: "from: " + command)
                .write(toFile: distribution, atomically: true, encoding: .utf8)
        }
    }
}

/// `chatbench idle`.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "N idle logged-in connections: server RSS per connection, login time, optionally one broadcast."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var protocolOption: ProtocolOption
    @Option(help: "Connections to open.") var connections = 1000
    @Option(
        name: .customLong("tls-ratio"),
        help: "Share of TLS connections, 0-1 (with --tls: share of plaintext ones)."
    ) var tlsRatio = 0.0
    @Option(help: "Seconds to wait after login before sampling memory.") var settle = 2.0
    @Flag(help: "Afterwards, one client sends one message; time until it reached all others.") var broadcast = false

    func run() async throws {
        let scenario = try IdleScenario(
            connections: connections, alternateRatio: tlsRatio, settleSeconds: settle, broadcast: broadcast
        )
        try await common.withEnvironment(label: "idle", proto: protocolOption.proto) { try await scenario.run($0) }
    }
}

/// `chatbench handshakes`.
struct HandshakesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshakes",
        abstract:
            "New connections/s at concurrency C (TLS with --tls; --resume for resumed sessions); server CPU per handshake."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var protocolOption: ProtocolOption
    @Option(help: "Connections in flight at once.") var concurrency = 32
    @Option(help: "Seconds to run.") var duration = 10.0
    @Flag(help: "Resume a TLS session on every connection after the first.") var resume = false

    func run() async throws {
        let scenario = try HandshakeScenario(concurrency: concurrency, seconds: duration, resume: resume)
        try await common.withEnvironment(label: "handshakes", proto: protocolOption.proto) {
            try await scenario.run($0)
        }
    }
}
