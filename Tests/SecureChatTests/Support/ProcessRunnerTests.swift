import Foundation
import NIOConcurrencyHelpers
import Testing

/// The process helpers themselves: a child never outlives the test that started it.
@Suite("Test support: child processes are always stopped")
struct ProcessRunnerTests {
    struct Planned: Error {}

    /// True while a process with this pid exists (a zombie counts: it has not been reaped).
    static func exists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    @Test("a child that would run for ten minutes is stopped and reaped when the test's body throws")
    func childIsStoppedWhenTheBodyThrows() async throws {
        let sleep = try #require(ProcessRunner.find("sleep"))
        let pid = NIOLockedValueBox<Int32>(-1)
        await #expect(throws: Planned.self) {
            try await withProcess(sleep, ["600"]) { process in
                pid.withLockedValue { $0 = process.pid }
                #expect(Self.exists(process.pid))
                throw Planned()
            }
        }
        let seen = pid.withLockedValue { $0 }
        #expect(seen > 0)
        #expect(!Self.exists(seen), "sleep \(seen) outlived the test")
    }

    @Test("a child that ignores SIGTERM is killed after the grace period")
    func childThatIgnoresTerminationIsKilled() async throws {
        let bash = try #require(ProcessRunner.find("bash"))
        let pid = NIOLockedValueBox<Int32>(-1)
        try await withProcess(
            bash, ["-c", "trap '' TERM; echo ready; while true; do sleep 1; done"], gracePeriod: .seconds(1)
        ) {
            process in
            try await process.readUntil("the ready line") { $0 == "ready" }
            pid.withLockedValue { $0 = process.pid }
        }
        let seen = pid.withLockedValue { $0 }
        #expect(seen > 0)
        #expect(!Self.exists(seen), "bash \(seen) outlived the test")
    }

    @Test("exit statuses and output of a tool that ends by itself")
    func statusAndOutput() async throws {
        let bash = try #require(ProcessRunner.find("bash"))
        let result = try await ProcessRunner.runToEnd(bash, ["-c", "echo out; echo err >&2; printf partial; exit 3"])
        #expect(result.status == 3)
        #expect(result.output == "out\nerr\npartial")
        let killed = try await ProcessRunner.runToEnd(bash, ["-c", "kill -KILL $$"])
        #expect(killed.status == 128 + SIGKILL)
    }
}
