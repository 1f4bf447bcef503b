import Foundation
import NIOCore
import NIOPosix
import Testing

/// A daemon that cannot start says why in one line naming the flag and value, and exits 64 for a usage error,
/// 1 for anything else (issue 24, point 13).
@Suite("Daemon start-up errors: one line, the flag and value, exit 64 or 1", .timeLimit(.minutes(2)))
struct DaemonStartupErrorTests {
    /// Runs securechatd to its end with only critical logs, so its output is its error line.
    private func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ProcessRunner.runToEnd(
            DaemonProcess.executable, ["--host", "127.0.0.1", "--log-level", "critical"] + arguments
        )
    }

    /// Holds a listening socket on 127.0.0.1 for the body.
    private func withTakenPort<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let result = try await body(try #require(taken.localAddress?.port))
            try await taken.close()
            return result
        } catch {
            try? await taken.close()
            throw error
        }
    }

    @Test func aTakenPlaintextPortIsNamedWithItsFlag() async throws {
        try await withTakenPort { port in
            let result = try await run(["--port", "\(port)", "--no-tls"])
            #expect(result.status == 1)
            #expect(result.output == "Error: the plaintext port \(port) is already in use (--port)")
        }
    }

    @Test func aTakenTLSPortIsNamedWithItsFlag() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("securechat-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withTakenPort { port in
            let result = try await run(["--port", "0", "--tls-port", "\(port)", "--certs-dir", directory])
            #expect(result.status == 1)
            // Before it, the notice of the development certificates just made (standard output).
            let lines = result.output.split(separator: "\n")
            #expect(lines.last == "Error: the TLS port \(port) is already in use (--tls-port)", "\(result.output)")
            #expect(lines.filter { $0.contains("Error") }.count == 1, "\(result.output)")
        }
    }

    @Test func aTakenMetricsPortIsNamedWithItsFlag() async throws {
        try await withTakenPort { port in
            let result = try await run(["--port", "0", "--no-tls", "--metrics-port", "\(port)"])
            #expect(result.status == 1)
            #expect(result.output == "Error: the metrics port \(port) is already in use (--metrics-port)")
        }
    }

    /// The same port twice is a usage error, said before anything is bound (the port is taken: a bind would
    /// have said so instead).
    @Test func theSamePortForTwoListenersIsAUsageError() async throws {
        try await withTakenPort { port in
            let result = try await run(["--port", "\(port)", "--tls-port", "\(port)"])
            #expect(result.status == 64)
            #expect(
                result.output
                    == "Error: --port \(port) and --tls-port \(port) are the same port; give each listener its own"
            )
            let metrics = try await run(["--port", "\(port)", "--no-tls", "--metrics-port", "\(port)"])
            #expect(metrics.status == 64)
            #expect(metrics.output.hasPrefix("Error: --port \(port) and --metrics-port \(port) are the same port"))
        }
    }

    @Test func aBadValueIsOneLineAndExit64() async throws {
        let result = try await run(["--port", "0", "--no-tls", "--max-line", "1"])
        #expect(result.status == 64)
        #expect(result.output == "Error: --max-line must be an integer from 64 to 1048576, got 1")
    }
}
