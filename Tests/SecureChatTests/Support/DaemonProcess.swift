import Foundation
import NIOConcurrencyHelpers

/// The real `securechatd` binary, run as a child process on 127.0.0.1 with ports chosen by the kernel.
///
/// It is found next to the test bundle (SwiftPM builds every product into the same directory). Standard
/// error is collected so tests can read the logs; `stop()` (or deinit) terminates the process.
final class DaemonProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is set up once in init; the log text is behind a lock.
    let process = Process()
    private let errorText = NIOLockedValueBox(Data())
    private(set) var plaintextPort = 0
    private(set) var tlsPort: Int?
    private(set) var metricsPort: Int?

    static var executable: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // XCTest bundles are directories on some platforms; walk up until securechatd is beside us.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("securechatd")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: "securechatd-not-found")
    }

    /// Starts `securechatd --host 127.0.0.1 --port 0 --tls-port 0 ...extra` and waits for its ready line.
    init(arguments extra: [String]) throws {
        process.executableURL = Self.executable
        process.arguments = ["--host", "127.0.0.1", "--port", "0", "--tls-port", "0"] + extra
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let errorText = self.errorText
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if !chunk.isEmpty { errorText.withLockedValue { $0.append(chunk) } }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let ready = logLines.first(where: { $0.contains("ready: nc localhost") }) {
                parsePorts(ready)
                return
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        stop()
        throw DaemonError(description: "securechatd did not become ready; log:\n\(logLines.joined(separator: "\n"))")
    }

    var logLines: [String] {
        let data = errorText.withLockedValue { $0 }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits (failsafe-bounded) for the process to exit; returns its exit status.
    func waitForExit(timeout: TimeInterval = 30) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { throw DaemonError(description: "securechatd did not exit") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
    }

    private func parsePorts(_ line: String) {
        func number(after marker: String) -> Int? {
            guard let range = line.range(of: marker) else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        plaintextPort = number(after: "nc localhost ") ?? 0
        tlsPort = number(after: "TLS on port ")
        metricsPort = number(after: "metrics on port ")
    }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
}
