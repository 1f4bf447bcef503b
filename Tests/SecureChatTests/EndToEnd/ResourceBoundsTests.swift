import NIOCore
import SecureChat
import Testing

extension EndToEnd {
    /// Memory bounds, measured on a real `securechatd` in its own process (tests running in parallel in this
    /// one cannot disturb its figures): RSS before and after, plus the peak (VmHWM, reset before the attack).
    @Suite("Resource bounds")
    struct ResourceBoundsTests {
        static let allowedGrowth = 8 << 20

        struct Measurement {
            let pid: Int32
            let before: Int
            init(pid: Int32) throws {
                self.pid = pid
                before = try MemoryProbe.residentBytes(pid: pid)
                MemoryProbe.resetPeak(pid: pid)
            }

            /// (RSS growth, peak growth) since `init`.
            func growth() throws -> (resident: Int, peak: Int) {
                let peak = try MemoryProbe.peakResidentBytes(pid: pid)
                let after = try MemoryProbe.residentBytes(pid: pid)
                return (after - before, peak - before)
            }
        }

        static func withServer(
            _ extra: [String] = [], _ body: (DaemonProcess) async throws -> Void
        ) async throws {
            try await withDaemon(
                arguments: [
                    "--no-tls", "--rate", "0", "--connect-rate", "0", "--max-per-address", "1000", "--log-level",
                    "notice", "--address-rate", "0", "--address-byte-rate", "0",
                ] + extra, environment: SanitizedBuild.memoryMeasuredChildEnvironment, body)
        }

        @Test("a 10 MiB line without newline: one error, the link stays usable, others keep chatting, memory bounded")
        func tenMebibyteLine() async throws {
            try await Self.withServer { server in
                let alice = try await TestClient.loggedIn("alice", port: server.plaintextPort)
                let bob = try await TestClient.loggedIn("bob", port: server.plaintextPort)
                defer {
                    Task {
                        await alice.close()
                        await bob.close()
                    }
                }
                // /ping answers come from the session, not the hub: wait for the hub's join notice itself.
                try await alice.readUntil { $0 == "* bob joined #lobby" }
                _ = try await alice.sync()
                _ = try await bob.sync()
                let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                let measurement = try Measurement(pid: server.pid)

                try await alice.sendRepeated(chunk, count: 80)  // 5 MiB, no newline yet
                bob.send("said during the long line")
                _ = try await bob.sync()  // bob's line was relayed while alice's line streams
                try await alice.sendRepeated(chunk, count: 80)  // 10 MiB
                alice.sendRaw([UInt8(ascii: "\n")])
                alice.send("after the long line")
                let aliceLines = try await alice.sync()  // the server has consumed all 10 MiB

                let growth = try measurement.growth()
                print(
                    "[memory] 10 MiB line: RSS growth \(MemoryProbe.mebibytes(growth.resident)), peak growth \(MemoryProbe.mebibytes(growth.peak))"
                )
                #expect(
                    aliceLines == [
                        "! Line too long (over 2048 bytes); it was discarded.", "bob: said during the long line",
                    ])
                #expect(try await bob.sync() == ["alice: after the long line"])
                #expect(growth.resident < Self.allowedGrowth)
                #expect(growth.peak < Self.allowedGrowth)
            }
        }

        @Test("a client that never reads is evicted on outbox overflow; everyone else gets everything; memory bounded")
        func slowReader() async throws {
            // Eviction must come from the outbox bound, not the write timer.
            try await Self.withServer(["--outbox-bytes", "65536", "--write-timeout", "600", "--history", "10"]) {
                server in
                let alice = try await TestClient.loggedIn("alice", port: server.plaintextPort)
                // Readers that count alice's lines as they arrive and keep none of them.
                var readers: [CountingReader] = []
                defer { for reader in readers { reader.channel.close(promise: nil) } }
                for name in ["bob", "carol"] {
                    readers.append(
                        try await CountingReader.loggedIn(
                            name, port: server.plaintextPort, sender: "alice", sentinel: "alice: done"))
                }
                let slow = try await TestClient.connect(port: server.plaintextPort, autoRead: false)
                slow.send("slow")
                try await alice.readUntil { $0 == "* slow joined #lobby" }
                let measurement = try Measurement(pid: server.pid)

                let padding = String(repeating: "p", count: 1000)
                // Batches well under the 64 KiB outbox bound, paced on the readers: only the reader that never
                // reads can fall behind.
                let batch = 32
                let leave = "* slow left #lobby (send queue overflow)"
                var sent = 0
                var evicted = false
                // Flood until the server evicts the slow reader: at most 2500 batches (80 MB).
                for _ in 0..<2500 where !evicted {
                    for _ in 0..<batch {
                        alice.send("\(sent) \(padding)")
                        sent += 1
                    }
                    evicted = try await alice.sync().contains(leave)
                    for reader in readers { try await reader.waitFor(count: sent) }
                }
                alice.send("done")
                _ = try await alice.sync()
                var tallies: [CountingReader.Result] = []
                for reader in readers { tallies.append(try await reader.result.get()) }
                let growth = try measurement.growth()
                print(
                    "[memory] slow reader (64 KiB outbox), \(sent) lines of 1 KB flooded: RSS growth \(MemoryProbe.mebibytes(growth.resident)), peak growth \(MemoryProbe.mebibytes(growth.peak))"
                )

                try #require(evicted, "the slow reader was never evicted")
                for tally in tallies {
                    #expect(tally.received == sent)
                    #expect(tally.inOrder, "a line arrived out of order or not at all")
                    #expect(tally.notices.filter { $0.contains("slow") } == ["* slow joined #lobby", leave])
                }
                alice.send("/users")
                #expect(try await alice.readUntil { $0.hasPrefix("* 3 users") }.hasPrefix("* 3 users in #lobby"))
                #expect(growth.resident < Self.allowedGrowth)
                #expect(growth.peak < Self.allowedGrowth)

                // The server closed the slow reader's socket: reading now ends in EOF.
                try await slow.channel.setOption(ChannelOptions.autoRead, value: true).get()
                _ = try await slow.readToEnd()
            }
        }
    }
}
