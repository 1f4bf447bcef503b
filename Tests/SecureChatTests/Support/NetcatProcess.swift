import Foundation
import NIOCore

/// `nc` (netcat-openbsd) as a child process talking to the test server: what a real user runs. The lines it
/// prints on stdout are collected; its stderr is dropped.
///
/// Only ``withNetcat(port:_:)`` makes one, and it ends nc in every case.
struct NetcatProcess: Sendable {
    struct NotFound: Error, CustomStringConvertible {
        var description: String {
            "nc (netcat-openbsd) is not installed: neither /usr/bin/nc nor nc on PATH. Install it (apt-get install netcat-openbsd); this test must not be skipped."
        }
    }

    fileprivate let runner: ProcessRunner

    /// The path of `nc`: /usr/bin/nc, else the first `nc` on PATH.
    static func executable() throws -> URL {
        var candidates = ["/usr/bin/nc"]
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        candidates += path.split(separator: ":").map { "\($0)/nc" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw NotFound()
        }
        return URL(fileURLWithPath: found)
    }

    /// Types a line into nc.
    func send(_ line: String) throws {
        runner.send(line)
    }

    /// Waits (with a generous failsafe) for a printed line that matches; returns it.
    @discardableResult
    func readUntil(_ description: String, timeout: Duration = .seconds(20), _ matches: (String) -> Bool) async throws
        -> String
    {
        let (seconds, attoseconds) = timeout.components
        let failsafe = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        while true {
            do {
                guard let line = try await runner.readLine(timeout: failsafe) else {
                    throw TestTimeout(waitingFor: "\(description) from nc (it exited)")
                }
                if matches(line) { return line }
            } catch is ProcessRunnerError {
                throw TestTimeout(waitingFor: "\(description) from nc")
            }
        }
    }
}

/// Runs `body` with an `nc` connected to `port`, and ends nc afterwards whatever happens: its stdin is closed
/// (with `-N`, nc then shuts its socket down), then SIGTERM, and SIGKILL after 2 s if it is still there.
func withNetcat<T: Sendable>(port: Int, _ body: (NetcatProcess) async throws -> T) async throws -> T {
    try await withProcess(
        try NetcatProcess.executable().path, ["-n", "-N", "127.0.0.1", String(port)], collecting: .standardOutput,
        gracePeriod: .seconds(2)
    ) { runner in
        try await body(NetcatProcess(runner: runner))
    }
}
