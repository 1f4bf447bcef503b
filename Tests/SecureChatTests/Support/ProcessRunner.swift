import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Subprocess
import SystemPackage

/// A child process (`openssl s_client`, `nc`, `securechatd`) driven by a test: lines go to its stdin, its output
/// comes back as lines. Every wait has the same generous failsafe as `TestClient`; nothing is timed.
///
/// It runs through swift-subprocess, not Foundation's `Process` (whose `run()` overflows a heap buffer under
/// AddressSanitizer, in `findMaximumOpenFromProcSelfFD`). Only ``withProcess(_:_:collecting:gracePeriod:_:)``
/// makes one, and the child never outlives that call: the task that runs it is cancelled when the test's body
/// returns or throws, and swift-subprocess then sends SIGTERM and, after the grace period, SIGKILL, and reaps it.
final class ProcessRunner: Sendable {
    /// Which of the child's outputs the test reads; the others are drained and dropped.
    enum Collected: Sendable {
        /// Standard output and standard error in one stream, in the order the child wrote them.
        case combined
        case standardOutput
        case standardError
    }

    /// What the test asks of the child while it runs; carried out in order by the task that runs it, the only
    /// place where swift-subprocess's `Execution` (its stdin, its signals) may be used.
    fileprivate enum Command: Sendable {
        case write([UInt8])
        case closeInput
        case signal(Int32)
    }

    private struct State {
        var pid: Int32?
        var lines: [String] = []
        /// How many of `lines` `readLine` has handed out.
        var consumed = 0
        var outputEnded = false
        var status: Int32?
        /// Why the child could not be run or watched (swift-subprocess's error).
        var failure: String?
    }

    let executable: String
    let arguments: [String]
    private let state = NIOLockedValueBox(State())
    private let commands: AsyncStream<Command>.Continuation

    fileprivate init(executable: String, arguments: [String], commands: AsyncStream<Command>.Continuation) {
        self.executable = executable
        self.arguments = arguments
        self.commands = commands
    }

    /// Where a tool lives, or nil if this machine lacks it.
    static func find(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/bin"] {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a tool to its end (a failsafe stops one that hangs) and returns its status and output (stdout and
    /// stderr together). `environment` is set over the inherited one.
    static func runToEnd(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: TimeAmount = TestClient.failsafe
    ) async throws -> (status: Int32, output: String) {
        try await withProcess(executable, arguments, environment: environment) { process in
            let status = try await process.waitForExit(timeout: timeout)
            return (status, try await process.readToEnd().joined(separator: "\n"))
        }
    }

    /// The child's process id.
    var pid: Int32 { state.withLockedValue { $0.pid } ?? -1 }

    /// Every line the child wrote so far (of the collected output), read by `readLine` or not.
    var lines: [String] { state.withLockedValue { $0.lines } }

    /// Types a line into the child's stdin.
    func send(_ line: String) {
        commands.yield(.write(Array((line + "\n").utf8)))
    }

    /// Closes the child's stdin (EOF for it); its output can still be read.
    func closeInput() async throws {
        commands.yield(.closeInput)
    }

    /// Sends a signal to the child (through its process descriptor: never to a process that reused its pid).
    func signal(_ number: Int32) {
        commands.yield(.signal(number))
    }

    /// The next line of output, or nil once the child closed its output.
    func readLine(timeout: TimeAmount = TestClient.failsafe) async throws -> String? {
        try await poll("a line from \(executable)", timeout: timeout) { state -> String?? in
            if state.consumed < state.lines.count {
                state.consumed += 1
                return .some(state.lines[state.consumed - 1])
            }
            return state.outputEnded ? .some(nil) : nil
        }
    }

    /// Reads lines until one matches and returns it; throws (with what was read) if the output ends first.
    @discardableResult
    func readUntil(
        _ description: String, timeout: TimeAmount = TestClient.failsafe, _ matches: (String) -> Bool
    ) async throws -> String {
        while true {
            guard let line = try await readLine(timeout: timeout) else {
                throw ProcessRunnerError("\(description): output ended. Output so far:\n\(await output())")
            }
            if matches(line) { return line }
        }
    }

    /// Reads until the child closes its output; returns the lines read by this call.
    func readToEnd() async throws -> [String] {
        var lines: [String] = []
        while let line = try await readLine() { lines.append(line) }
        return lines
    }

    /// Everything the child wrote so far, one line each.
    func output() async -> String {
        lines.joined(separator: "\n")
    }

    /// Waits for the child to exit by itself; returns its exit status (128 + N for death by signal N, as a shell
    /// reports it). Throws if it has not exited within `timeout`.
    func waitForExit(timeout: TimeAmount = TestClient.failsafe) async throws -> Int32 {
        try await poll("\(executable) to exit", timeout: timeout) { $0.status }
    }

    /// Polls the state until `ready` answers; the deadline is a failsafe only.
    private func poll<T>(
        _ description: String, timeout: TimeAmount, _ ready: (inout State) -> T?
    ) async throws -> T {
        let deadline = ContinuousClock.now + .nanoseconds(timeout.nanoseconds)
        while true {
            let (answer, failure) = state.withLockedValue { state in (ready(&state), state.failure) }
            if let answer { return answer }
            if let failure { throw ProcessRunnerError("\(executable): \(failure)") }
            if ContinuousClock.now >= deadline {
                throw ProcessRunnerError(
                    "timed out waiting for \(description). Output so far:\n\(lines.joined(separator: "\n"))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Runs the child to its end. Cancelling the calling task stops it: swift-subprocess's teardown sends SIGTERM,
    /// SIGKILL after `gracePeriod`, and reaps it before this returns.
    fileprivate func run(
        commands: AsyncStream<Command>, collecting: Collected, gracePeriod: Duration, environment: [String: String]
    ) async {
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: gracePeriod)]
        var overrides: [Subprocess.Environment.Key: String?] = [:]
        for (name, value) in environment { overrides[Subprocess.Environment.Key(stringLiteral: name)] = value }
        let configuration = Subprocess.Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments),
            environment: .inherit.updating(overrides), platformOptions: options)
        do {
            let status: TerminationStatus
            switch collecting {
            case .combined:
                status = try await Subprocess.run(
                    configuration, input: .inputWriter, output: .sequence, error: .combinedWithOutput
                ) { execution in
                    try await self.serve(execution, reading: execution.standardOutput, commands: commands)
                }.terminationStatus
            case .standardOutput:
                status = try await Subprocess.run(
                    configuration, input: .inputWriter, output: .sequence, error: .discarded
                ) { execution in
                    try await self.serve(execution, reading: execution.standardOutput, commands: commands)
                }.terminationStatus
            case .standardError:
                status = try await Subprocess.run(
                    configuration, input: .inputWriter, output: .discarded, error: .sequence
                ) { execution in
                    try await self.serve(execution, reading: execution.standardError, commands: commands)
                }.terminationStatus
            }
            let code: Int32
            switch status {
            case .exited(let exit): code = exit
            case .signaled(let signal): code = 128 + signal
            }
            state.withLockedValue {
                $0.outputEnded = true
                $0.status = code
            }
        } catch {
            state.withLockedValue {
                $0.outputEnded = true
                if $0.status == nil, $0.failure == nil { $0.failure = "\(error)" }
            }
        }
    }

    /// While the child runs: its output becomes lines, and the test's commands are carried out. Returns when the
    /// output ends (the child exited, or closed it); swift-subprocess then waits for the exit.
    private func serve<Output: OutputProtocol, ErrorOutput: ErrorOutputProtocol>(
        _ execution: Execution<CustomWriteInput, Output, ErrorOutput>,
        reading output: SubprocessOutputSequence,
        commands: AsyncStream<Command>
    ) async throws {
        state.withLockedValue { $0.pid = execution.processIdentifier.value }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var splitter = LineSplitter()
                for try await buffer in output {
                    let lines = buffer.withUnsafeBytes { splitter.append($0) }
                    if !lines.isEmpty { self.state.withLockedValue { $0.lines += lines } }
                }
                let last = splitter.finish()
                self.state.withLockedValue { state in
                    state.lines += last
                    state.outputEnded = true
                }
            }
            group.addTask {
                let input = execution.standardInputWriter
                for await command in commands {
                    switch command {
                    case .write(let bytes):
                        // A child that has gone, or closed its stdin, cannot take the line; its output says why.
                        _ = try? await input.write(bytes)
                    case .closeInput:
                        try? await input.finish()
                    case .signal(let number):
                        try? execution.send(signal: Signal(rawValue: number))
                    }
                }
            }
            // The output ended: nothing more to read, and the child is gone (or will be, when stopped).
            try await group.next()
            group.cancelAll()
        }
    }
}

/// Splits bytes into lines at `\n`, dropping a `\r` before it.
private struct LineSplitter {
    private var partial: [UInt8] = []

    mutating func append(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(Self.line(partial))
                partial.removeAll(keepingCapacity: true)
            } else {
                partial.append(byte)
            }
        }
        return lines
    }

    /// A last line the child did not end with a newline.
    mutating func finish() -> [String] {
        defer { partial = [] }
        return partial.isEmpty ? [] : [Self.line(partial)]
    }

    private static func line(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes[...], as: UTF8.self)
    }
}

struct ProcessRunnerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a started child process, then stops the child, whether `body` returned or threw: its stdin
/// is closed, then it gets SIGTERM, and SIGKILL if it is still there after `gracePeriod`. Returns once the child
/// has been reaped. The child inherits this process's environment, with `environment`'s variables set over it.
func withProcess<T: Sendable>(
    _ executable: String,
    _ arguments: [String],
    collecting: ProcessRunner.Collected = .combined,
    gracePeriod: Duration = .seconds(5),
    environment: [String: String] = [:],
    _ body: (ProcessRunner) async throws -> T
) async throws -> T {
    let (commands, continuation) = AsyncStream.makeStream(of: ProcessRunner.Command.self)
    let runner = ProcessRunner(executable: executable, arguments: arguments, commands: continuation)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            await runner.run(
                commands: commands, collecting: collecting, gracePeriod: gracePeriod, environment: environment)
        }
        // Whatever happens next, the child is stopped before the group (and so this function) returns.
        defer {
            continuation.finish()
            group.cancelAll()
        }
        // Started (it has a pid), or failed to start (the state says why).
        while runner.pid < 0 {
            if let error = runner.startFailure { throw ProcessRunnerError("cannot run \(executable): \(error)") }
            try await Task.sleep(for: .milliseconds(5))
        }
        let result = try await body(runner)
        try await runner.closeInput()
        return result
    }
}

extension ProcessRunner {
    fileprivate var startFailure: String? { state.withLockedValue { $0.pid == nil ? $0.failure : nil } }
}
