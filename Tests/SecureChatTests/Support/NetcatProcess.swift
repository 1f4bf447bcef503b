import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// `nc` (netcat-openbsd) as a child process talking to the test server: what a real user runs.
///
/// Lines it prints are collected from its stdout; `terminate()` must be called in every case (the helper
/// `withNetcat` does it).
final class NetcatProcess {
    struct NotFound: Error, CustomStringConvertible {
        var description: String {
            "nc (netcat-openbsd) is not installed: neither /usr/bin/nc nor nc on PATH. Install it (apt-get install netcat-openbsd); this test must not be skipped."
        }
    }

    private let process: Process
    private let stdin: Pipe
    private let output = NIOLockedValueBox<(lines: [String], partial: [UInt8], ended: Bool)>(([], [], false))
    private let consumed = NIOLockedValueBox(0)

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

    init(port: Int) throws {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = ["-n", "-N", "127.0.0.1", String(port)]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        self.process = process
        self.stdin = stdin
        let output = self.output
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            output.withLockedValue { state in
                if data.isEmpty {
                    state.ended = true
                    handle.readabilityHandler = nil
                    return
                }
                state.partial += data
                while let newline = state.partial.firstIndex(of: UInt8(ascii: "\n")) {
                    state.lines.append(String(decoding: state.partial[..<newline], as: UTF8.self))
                    state.partial.removeSubrange(...newline)
                }
            }
        }
        try process.run()
    }

    /// Types a line into nc.
    func send(_ line: String) throws {
        try stdin.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Waits (polling, with a generous failsafe) for a printed line that matches; returns it.
    @discardableResult
    func readUntil(_ description: String, timeout: Duration = .seconds(20), _ matches: (String) -> Bool) async throws
        -> String
    {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let (fresh, ended) = output.withLockedValue { state -> ([String], Bool) in
                (state.lines, state.ended)
            }
            let start = consumed.withLockedValue { $0 }
            for index in start..<fresh.count {
                consumed.withLockedValue { $0 = index + 1 }
                if matches(fresh[index]) { return fresh[index] }
            }
            if ended { throw TestTimeout(waitingFor: "\(description) from nc (it exited)") }
            if clock.now > deadline { throw TestTimeout(waitingFor: "\(description) from nc") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops nc and waits until it is gone: stdin is closed (with `-N`, nc then shuts its socket down and exits
    /// when the server closes), SIGTERM is sent, and SIGKILL after 2 s if nc is still there (a child spawned from
    /// a thread that blocks SIGTERM inherits the block).
    ///
    /// `Process.waitUntilExit()` is not used: on Linux it spins the current run loop, which from a Swift
    /// concurrency thread never saw nc exit. `waitpid` answers directly (ECHILD: Foundation reaped it first).
    func terminate() async {
        try? stdin.fileHandleForWriting.close()
        let pid = process.processIdentifier
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(2)
        var killed = false
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) { return }
            if !killed, clock.now > deadline {
                kill(pid, SIGKILL)
                killed = true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Runs `body` with an `nc` connected to `port`, and terminates nc afterwards whatever happens.
func withNetcat<T>(port: Int, _ body: (NetcatProcess) async throws -> T) async throws -> T {
    let netcat = try NetcatProcess(port: port)
    do {
        let result = try await body(netcat)
        await netcat.terminate()
        return result
    } catch {
        await netcat.terminate()
        throw error
    }
}
