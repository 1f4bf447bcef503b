import ArgumentParser
import ChatBenchCore

/// `--proto`, for the scenarios that also run against IRC servers (fanout, latency, idle, handshakes); churn
/// and soak script the line protocol's commands and speak only that.
struct ProtocolOption: ParsableArguments {
    @Option(
        name: .customLong("proto"),
        help: ArgumentHelp(
            "The server's protocol: line (securechatd) or irc (ngIRCd, InspIRCd: bench/peers.sh).",
            discussion: """
                irc registers with NICK/USER, joins #lobby, sends PRIVMSG #lobby and answers PING; the figures \
                mean the same as with securechatd. The server must let the benchmark's clients flood (see \
                bench/peers/).
                """,
            valueName: "line|irc"),
        transform: { value in
            guard let proto = BenchProtocol(rawValue: value) else {
                throw ValidationError("--proto: line or irc, not \(value)")
            }
            return proto
        })
    var proto: BenchProtocol = .line
}
