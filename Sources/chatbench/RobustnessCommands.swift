import ArgumentParser
import ChatBenchCore

/// `chatbench churn` (bench/leakcheck.sh).
struct ChurnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "churn",
        abstract: "N short connections, TLS and plaintext mixed: log in, chat, quit / close / reset, or drop early.",
        discussion: """
            In every 20 connections: 2 drop before login (TLS: mid-handshake, at the server's first flight or \
            after a ClientHello cut short; plaintext: at the greeting), 8 chat and /quit, 4 chat and close, 2 chat \
            and reset (RST), 4 visit a room of their own and /quit. Needs --port and --tls-port of one server. \
            Every connection is closed when the run ends, so the server should be back where it started.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Connections in all.") var connections = 10_000
    @Option(help: "Connections at a time.") var concurrency = 32
    @Option(name: .customLong("tls-ratio"), help: "Share of TLS connections, 0-1.") var tlsRatio = 0.5
    @Option(help: "Seconds to wait for any one step of a connection (slow servers: valgrind).") var timeout = 30

    func run() async throws {
        let scenario = try ChurnScenario(
            connections: connections, concurrency: concurrency, tlsRatio: tlsRatio, timeoutSeconds: timeout)
        try await common.withEnvironment(label: "churn") { try await scenario.run($0) }
    }
}

/// `chatbench soak` (bench/soak.sh).
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Mixed load for a while over both transports; every well-behaved client checks every line.",
        discussion: """
            Steady clients sit in --rooms rooms (#lobby first) and write under the server's rate limit: room \
            lines, and DMs across rooms; each checks, by sender and sequence number, that it got every line of \
            the others exactly once and in order, and no error. Around them: churners (log in, chat, /quit, close \
            or reset, drop before login), room movers, flooders (cut off, or refused in part), slow readers in \
            #soak-slow where the firehose clients write long lines (they must be evicted), garbage and half \
            handshakes on the TLS port, TLS on the plaintext port. Run it against a server with its default \
            limits and a rate limit (--rate), spreading clients with --source-addresses.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Seconds of load.") var duration = 300.0
    @Option(help: "Regular rooms of steady clients (#lobby, #soak-1, ...).") var rooms = 4
    @Option(help: "Steady clients per regular room.") var members = 8
    @Option(name: .customLong("interval-ms"), help: "Milliseconds between two room lines of a steady client.")
    var intervalMilliseconds = 1000
    @Option(help: "Room line size in bytes.") var bytes = 100
    @Option(name: .customLong("direct-every"), help: "One DM with every N room lines.") var directEvery = 5
    @Option(help: "Steady clients writing long lines in #soak-slow (0, or 2 and more).") var firehose = 7
    @Option(name: .customLong("firehose-interval-ms"), help: "Milliseconds between two firehose lines.")
    var firehoseIntervalMilliseconds = 300
    @Option(name: .customLong("firehose-bytes"), help: "Firehose line size in bytes.") var firehoseBytes = 2000
    @Option(
        name: .customLong("server-rate"),
        help: "The server's --rate (lines/s per client; 0 = off): steady clients must stay under 80 % of it.")
    var serverRate = 5.0
    @Option(help: "Workers logging in and out (quit, close, reset, drop before login).") var churners = 4
    @Option(name: .customLong("churn-pause-ms"), help: "Pause between two churn connections of one worker.")
    var churnPauseMilliseconds = 500
    @Option(help: "Workers moving between rooms.") var movers = 4
    @Option(help: "Workers flooding over the rate limit.") var flooders = 2
    @Option(name: .customLong("slow-readers"), help: "Workers that stop reading in #soak-slow.") var slowReaders = 2
    @Option(
        name: .customLong("slow-stall"),
        help: ArgumentHelp(
            "Seconds a slow reader stops reading.",
            discussion: """
                On loopback Linux lets the server's socket buffer grow to net.ipv4.tcp_wmem's maximum (4 MiB) before \
                the server sees the client stall, so the stall must last until the firehose has written that much \
                and the outbox (1 MiB) or the write timeout (30 s) has run out: with 7 firehose clients at 2000 B \
                every 300 ms, about 2 minutes.
                """))
    var slowStall = 150
    @Option(help: "Workers sending garbage to the TLS port and TLS to the plaintext port.") var abusers = 1
    @Option(name: .customLong("half-handshakes"), help: "Workers leaving TLS handshakes half done.")
    var halfHandshakes = 2
    @Option(help: "Seconds to wait for one step of one client; half handshakes wait this plus 15 s.") var timeout = 30

    func run() async throws {
        let plan = try SoakPlan(
            rooms: rooms, membersPerRoom: members, intervalMilliseconds: intervalMilliseconds, bytes: bytes,
            directEvery: directEvery, firehoseMembers: firehose,
            firehoseIntervalMilliseconds: firehoseIntervalMilliseconds, firehoseBytes: firehoseBytes,
            rateLimit: serverRate)
        let scenario = try SoakScenario(
            seconds: duration, plan: plan, churners: churners, churnPauseMilliseconds: churnPauseMilliseconds,
            movers: movers, flooders: flooders, slowReaders: slowReaders, slowStallSeconds: slowStall,
            abusers: abusers, halfHandshakers: halfHandshakes, timeoutSeconds: timeout)
        try await common.withEnvironment(label: "soak") { try await scenario.run($0) }
    }
}
