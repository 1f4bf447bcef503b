import ArgumentParser

/// `chatbench`: the load generator of SecureChat (issue 6). One subcommand per scenario; each prints
/// progress on stderr, a human table, and a final JSON line on stdout.
@main
struct ChatBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatbench",
        abstract: "Load generator for securechatd: fan-out, latency, idle memory, handshakes, churn, soak.",
        discussion: """
            Start securechatd with rate limiting off and generous limits (see bench/run.sh), then run a \
            scenario against it. Every run ends with one JSON line on stdout.
            """,
        subcommands: [
            FanoutCommand.self, LatencyCommand.self, IdleCommand.self, HandshakesCommand.self,
            ChurnCommand.self, SoakCommand.self, ReportCommand.self,
        ]
    )
}
