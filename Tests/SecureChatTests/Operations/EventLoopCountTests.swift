import Foundation
import NIOCore
import SecureChat
import Testing

@Suite("Event loops: one per CPU the process may run on")
struct EventLoopCountTests {
    @Test(
        "the Cpus_allowed mask of /proc/PID/status is counted",
        arguments: [
            ("Name:\tsecurechatd\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n", 2),
            ("Cpus_allowed:\t1\n", 1),
            ("Cpus_allowed:\tff\n", 8),
            // 64 CPUs, of which CPU 0 and CPU 33 are allowed: groups of 32 bits, highest first.
            ("Cpus_allowed:\t00000002,00000001\n", 2),
            ("Cpus_allowed:\tffffffff,ffffffff,ffffffff,ffffffff\n", 128),
        ])
    func masksAreCounted(status: String, cpus: Int) {
        #expect(EventLoopCount.allowedCPUs(status: status) == cpus)
    }

    @Test(
        "a missing, empty or malformed mask is no answer",
        arguments: [
            "Name:\tsecurechatd\n", "Cpus_allowed:\t\n", "Cpus_allowed:\tzz\n", "Cpus_allowed:\t0\n",
            "Cpus_allowed:\t1,,1\n", "Cpus_allowed:\t123456789\n",
        ])
    func malformedMasksAreNil(status: String) {
        #expect(EventLoopCount.allowedCPUs(status: status) == nil)
    }

    @Test("the automatic count is at least 1 and at most NIO's core count")
    func automaticIsWithinTheCores() {
        let count = EventLoopCount.automatic()
        #expect(count >= 1)
        #expect(count <= System.coreCount)
    }

    @Test("--event-loops 1: the daemon runs one event loop, and chat works over it")
    func oneEventLoop() async throws {
        let (logged, received) = try await withDaemon(arguments: [
            "--no-tls", "--event-loops", "1", "--log-level", "info",
        ]) { daemon in
            let alice = try await TestClient.loggedIn("alice", port: daemon.plaintextPort)
            let bob = try await TestClient.loggedIn("bob", port: daemon.plaintextPort)
            _ = try await alice.readUntil { $0 == "* bob joined #lobby" }
            alice.send("one loop is enough")
            let received = try await bob.readUntil { $0.hasPrefix("alice:") }
            await alice.close()
            await bob.close()
            let logged = daemon.logLines.contains { $0.contains("event loops") && $0.contains("threads=1") }
            return (logged, received)
        }
        #expect(logged)
        #expect(received == "alice: one loop is enough")
    }
}
