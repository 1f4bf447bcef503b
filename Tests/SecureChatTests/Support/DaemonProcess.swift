import Foundation
import NIOCore

/// The real `securechatd` binary, run as a child process on 127.0.0.1 with ports chosen by the kernel.
///
/// It is found next to the test bundle (SwiftPM builds every product into the same directory). Its standard
/// error (the log) is collected so tests can read it. Only ``withDaemon(arguments:_:)`` makes one, and it stops
/// the process in every case.
struct DaemonProcess: Sendable {
    fileprivate let runner: ProcessRunner
    let plaintextPort: Int
    let tlsPort: Int?
    let metricsPort: Int?

    /// The path of the `securechatd` built beside the tests.
    static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // XCTest bundles are directories on some platforms; walk up until securechatd is beside us.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("securechatd")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            directory = directory.deletingLastPathComponent()
        }
        return "securechatd-not-found"
    }

    fileprivate init(runner: ProcessRunner, ready line: String) {
        func number(after marker: String) -> Int? {
            guard let range = line.range(of: marker) else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        self.runner = runner
        plaintextPort = number(after: "nc localhost ") ?? 0
        tlsPort = number(after: "TLS on port ")
        metricsPort = number(after: "metrics on port ")
    }

    var pid: Int32 { runner.pid }

    /// The log so far, one line each.
    var logLines: [String] { runner.lines }

    func signal(_ number: Int32) {
        runner.signal(number)
    }

    /// Waits (failsafe-bounded) for the process to exit; returns its exit status.
    func waitForExit() async throws -> Int32 {
        do {
            return try await runner.waitForExit(timeout: .seconds(30))
        } catch {
            throw DaemonError(description: "securechatd did not exit: \(error)")
        }
    }
}

/// Starts `securechatd --host 127.0.0.1 --port 0 --tls-port 0 ...arguments`, waits for its ready line, runs
/// `body`, and stops the process (SIGTERM, SIGKILL 5 s later) whether `body` returned or threw. `environment` is set
/// over the inherited one. Without `loopbackListeners`, the arguments are only `arguments` (a configuration file
/// then says where to listen).
func withDaemon<T: Sendable>(
    arguments extra: [String], environment: [String: String] = [:], loopbackListeners: Bool = true,
    _ body: (DaemonProcess) async throws -> T
) async throws -> T {
    let arguments = (loopbackListeners ? ["--host", "127.0.0.1", "--port", "0", "--tls-port", "0"] : []) + extra
    return try await withProcess(
        DaemonProcess.executable, arguments, collecting: .standardError, environment: environment
    ) { runner in
        let ready: String
        do {
            ready = try await runner.readUntil("the ready line", timeout: .seconds(30)) {
                $0.contains("ready: nc localhost")
            }
        } catch {
            throw DaemonError(
                description:
                    "securechatd did not become ready (\(error)); log:\n\(runner.lines.joined(separator: "\n"))"
            )
        }
        return try await body(DaemonProcess(runner: runner, ready: ready))
    }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
}
