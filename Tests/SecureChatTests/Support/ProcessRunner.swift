import Foundation
import NIOCore
import NIOPosix
import SecureChat

/// Collects the lines a child process writes (stdout and stderr together), on the pipe channel's event loop,
/// and hands them out one at a time.
private final class ProcessLineCollector: ChannelInboundHandler {
    typealias InboundIn = InboundLine

    private var buffered = CircularBuffer<String>()
    private var waiter: EventLoopPromise<String?>?
    private var ended = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let bytes) = Self.unwrapInboundIn(data) else { return }
        let line = String(buffer: bytes)
        if let waiter {
            self.waiter = nil
            waiter.succeed(line)
        } else {
            buffered.append(line)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        waiter?.succeed(nil)
        waiter = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A pipe error ends the stream like EOF does.
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The child closed its stdout: that is the end of its output, whether or not stdin is still open.
        if case ChannelEvent.inputClosed = event {
            ended = true
            waiter?.succeed(nil)
            waiter = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func next(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<String?> {
        if let line = buffered.popFirst() { return eventLoop.makeSucceededFuture(line) }
        if ended { return eventLoop.makeSucceededFuture(nil) }
        let promise = eventLoop.makePromise(of: String?.self)
        waiter = promise
        let scheduled = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            if let waiter = self.waiter, waiter.futureResult === promise.futureResult {
                self.waiter = nil
                waiter.fail(TestTimeout(waitingFor: "a line from a child process"))
            }
        }
        promise.futureResult.whenComplete { _ in scheduled.cancel() }
        return promise.futureResult
    }
}

/// A child process (`openssl s_client`, `nc`, `securechatd`) driven by a test: lines go to its stdin, its stdout
/// and stderr come back as lines. Every wait has the same generous failsafe as `TestClient`; nothing is timed.
///
/// Use it through ``withProcess(_:_:_:)``, which stops the process in every path.
final class ProcessRunner: Sendable {
    let executable: String
    let arguments: [String]
    /// `@unchecked`: `Process` is thread-safe for what we do with it (pid, isRunning, terminate).
    private struct Child: @unchecked Sendable { let process: Process }
    private let child: Child
    private let pipe: any Channel
    private let collector: NIOLoopBound<ProcessLineCollector>
    private let exit: EventLoopPromise<Int32>
    /// Everything read so far, for failure messages.
    private let transcript: NIOLoopBoundBox<[String]>

    var pid: Int32 { child.process.processIdentifier }

    private init(
        executable: String, arguments: [String], child: Child, pipe: any Channel,
        collector: NIOLoopBound<ProcessLineCollector>, transcript: NIOLoopBoundBox<[String]>,
        exit: EventLoopPromise<Int32>
    ) {
        self.executable = executable
        self.arguments = arguments
        self.child = child
        self.pipe = pipe
        self.collector = collector
        self.exit = exit
        self.transcript = transcript
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

    /// Starts `executable` with `arguments`, its stdin, stdout and stderr on pipes to us.
    static func start(_ executable: String, _ arguments: [String]) async throws -> ProcessRunner {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output

        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let exit = eventLoop.makePromise(of: Int32.self)
        process.terminationHandler = { process in exit.succeed(process.terminationStatus) }
        try process.run()

        // Our ends of the pipes move to NIO (close-on-exec copies, so no other child inherits them); every
        // descriptor Foundation still holds is closed, so the child sees EOF on stdin when NIO closes it.
        let readEnd = fcntl(output.fileHandleForReading.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        let writeEnd = fcntl(input.fileHandleForWriting.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        for handle in [
            output.fileHandleForReading, output.fileHandleForWriting, input.fileHandleForReading,
            input.fileHandleForWriting,
        ] {
            try? handle.close()
        }
        guard readEnd >= 0, writeEnd >= 0 else {
            if readEnd >= 0 { close(readEnd) }
            if writeEnd >= 0 { close(writeEnd) }
            process.terminate()
            throw ProcessRunnerError("cannot duplicate the pipe descriptors: errno \(errno)")
        }
        let pipe: any Channel
        do {
            pipe = try await NIOPipeBootstrap(group: eventLoop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineDecoder(maximumLength: 1 << 20))
                        )
                        try channel.pipeline.syncOperations.addHandler(ProcessLineCollector())
                    }
                }
                .takingOwnershipOfDescriptors(input: readEnd, output: writeEnd)
                .get()
        } catch {
            process.terminate()
            throw error
        }
        let (collector, transcript) = try await pipe.eventLoop.submit {
            (
                NIOLoopBound(
                    try pipe.pipeline.syncOperations.handler(type: ProcessLineCollector.self), eventLoop: pipe.eventLoop
                ),
                NIOLoopBoundBox([String](), eventLoop: pipe.eventLoop)
            )
        }.get()
        return ProcessRunner(
            executable: executable, arguments: arguments, child: Child(process: process), pipe: pipe,
            collector: collector, transcript: transcript, exit: exit
        )
    }

    func send(_ line: String) {
        pipe.writeAndFlush(ByteBuffer(string: line + "\n"), promise: nil)
    }

    /// The next line of output, or nil once the child closed its output.
    func readLine(timeout: TimeAmount = TestClient.failsafe) async throws -> String? {
        let collector = self.collector
        let transcript = self.transcript
        return try await pipe.eventLoop.flatSubmit {
            collector.value.next(on: collector.eventLoop, timeout: timeout).map { line in
                if let line { transcript.value.append(line) }
                return line
            }
        }.get()
    }

    /// Reads lines until one matches and returns it; throws (with what was read) if the output ends first.
    @discardableResult
    func readUntil(_ description: String, _ matches: (String) -> Bool) async throws -> String {
        while true {
            guard let line = try await readLine() else {
                let sofar = await output()
                throw ProcessRunnerError("\(description): output ended. Output so far:\n\(sofar)")
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

    /// Everything the child wrote that has been read so far, one line each.
    func output() async -> String {
        let transcript = self.transcript
        return (try? await pipe.eventLoop.submit { transcript.value.joined(separator: "\n") }.get()) ?? ""
    }

    /// Closes the child's stdin (EOF for it); its output can still be read.
    func closeInput() async throws {
        try await pipe.close(mode: .output)
    }

    /// Waits for the child to exit by itself; returns its status. Throws if it has not exited within `timeout`.
    func waitForExit(timeout: TimeAmount = TestClient.failsafe) async throws -> Int32 {
        let exit = self.exit
        let eventLoop = exit.futureResult.eventLoop
        let failure = ProcessRunnerError("\(executable) did not exit within \(timeout)")
        let outcome = eventLoop.makePromise(of: Int32.self)
        eventLoop.execute {
            let settled = NIOLoopBoundBox(false, eventLoop: eventLoop)
            let timer = eventLoop.scheduleTask(in: timeout) {
                guard !settled.value else { return }
                settled.value = true
                outcome.fail(failure)
            }
            exit.futureResult.whenSuccess { status in
                guard !settled.value else { return }
                settled.value = true
                timer.cancel()
                outcome.succeed(status)
            }
        }
        return try await outcome.futureResult.get()
    }

    /// Ends the child (SIGTERM, then SIGKILL if it lingers) and closes the pipes. Safe to call more than once.
    func stop() async {
        if child.process.isRunning {
            child.process.terminate()
            if (try? await waitForExit(timeout: .seconds(5))) == nil, child.process.isRunning {
                kill(child.process.processIdentifier, SIGKILL)
                _ = try? await waitForExit(timeout: .seconds(5))
            }
        }
        try? await pipe.close()
    }
}

struct ProcessRunnerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a started child process, then stops the child, whether `body` returned or threw.
func withProcess<T: Sendable>(
    _ executable: String,
    _ arguments: [String],
    _ body: (ProcessRunner) async throws -> T
) async throws -> T {
    let runner = try await ProcessRunner.start(executable, arguments)
    do {
        let result = try await body(runner)
        await runner.stop()
        return result
    } catch {
        await runner.stop()
        throw error
    }
}
