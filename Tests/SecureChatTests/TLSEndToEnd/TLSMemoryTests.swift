import Foundation
import SecureChat
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What 1,000 idle, logged-in connections cost, TLS against plaintext. Measured, printed, and only held to a
/// generous bound: the figures are for the operator's sizing note, not a benchmark.
///
/// Each client logs in and moves to a room of its own, so the lobby's join announcements do not grow with the
/// square of the connection count and no client sits on unread lines; every connection is then idle.
@Suite("Memory of idle TLS and plaintext connections", .serialized, .timeLimit(.minutes(10)))
struct TLSMemoryTests {
    static let connections = 1000
    /// Far above any sane figure (a few KiB to a few tens of KiB are expected); a leak of a TLS record buffer
    /// per connection or an unbounded queue would still trip it.
    static let boundPerConnection = 200 * 1024

    struct Figures: CustomStringConvertible {
        let label: String
        var measure = "RSS"
        let before: Int
        let after: Int
        var perConnection: Int { (after - before) / TLSMemoryTests.connections }
        var description: String {
            "\(label): \(measure) \(before / 1024) KiB -> \(after / 1024) KiB, "
                + "+\((after - before) / 1024) KiB = \(perConnection / 1024).\((perConnection % 1024) * 10 / 1024) KiB per connection"
        }
    }

    /// Returns freed heap to the kernel, so an RSS reading shows live memory rather than what an earlier phase
    /// (or test) left in malloc's free lists.
    static func settledResidentBytes(of pid: String = "self") throws -> Int {
        #if canImport(Glibc)
            // glibc's malloc_trim (not in the Swift Glibc module); RTLD_DEFAULT is the null handle.
            if pid == "self", let symbol = dlsym(nil, "malloc_trim") {
                typealias MallocTrim = @convention(c) (Int) -> Int32
                _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
            }
        #endif
        return try TLSProcessMemory.residentBytes(of: pid)
    }

    /// Opens `count` logged-in clients, each parked alone in room `#<prefix><index>`, 25 at a time.
    static func openIdleClients(count: Int, port: Int, tls: TestClient.TLS?, prefix: String) async throws
        -> [TestClient]
    {
        var clients: [TestClient] = []
        clients.reserveCapacity(count)
        var next = 0
        while next < count {
            let batch = next..<min(next + 25, count)
            try await withThrowingTaskGroup(of: TestClient.self) { group in
                for index in batch {
                    group.addTask {
                        let client = try await TestClient.loggedIn("\(prefix)\(index)", port: port, tls: tls)
                        client.send("/join #\(prefix)\(index)")
                        try await client.readUntil { $0.hasPrefix("* You joined #\(prefix)\(index)") }
                        return client
                    }
                }
                for try await client in group { clients.append(client) }
            }
            next = batch.upperBound
        }
        return clients
    }

    static func closeAll(_ clients: [TestClient]) async {
        await withTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.close() } }
        }
    }

    /// What this process holds, for the in-process figures: RSS after trimming malloc's free lists; in a sanitized
    /// build, the live heap its allocator counts instead (its RSS holds freed blocks in quarantine, redzones and
    /// shadow memory, and moves with what earlier tests freed, not with what these connections hold).
    static func inProcessBytes() throws -> Int {
        if let live = SanitizedBuild.liveHeapBytes() { return live }
        return try settledResidentBytes()
    }

    /// Client and server in this process: the cost of one connection on both ends.
    static func measureInProcess(tls: Bool) async throws -> Figures {
        try await withTestServer({ $0.maximumRooms = connections + 100 }) { server in
            let port = tls ? server.tlsPort : server.port
            let transport: TestClient.TLS? = tls ? .plain : nil
            // Warm up: first-use allocations (event loop buffers, hub tables, OpenSSL's lazily built tables).
            await closeAll(try await openIdleClients(count: 25, port: port, tls: transport, prefix: "warm"))
            let before = try inProcessBytes()
            let clients = try await openIdleClients(count: connections, port: port, tls: transport, prefix: "m")
            let after = try inProcessBytes()
            await closeAll(clients)
            let measure = SanitizedBuild.sanitizer.map { "live heap (\($0.rawValue) build)" } ?? "RSS"
            return Figures(
                label: "in-process client+server, \(tls ? "TLS" : "plaintext")", measure: measure, before: before,
                after: after)
        }
    }

    /// The real daemon in its own process, clients in this one: the server's cost alone.
    static func measureDaemon(_ daemon: String, tls: Bool) async throws -> Figures {
        let arguments = [
            "--host", "127.0.0.1", "--port", "0", "--tls-port", "0",
            "--cert", TestCertificates.set.certificatePath, "--key", TestCertificates.set.privateKeyPath,
            "--rate", "0", "--connect-rate", "0", "--max-per-address", "100000", "--max-rooms", "\(connections + 100)",
            "--room-create-rate", "0", "--address-rate", "0", "--address-byte-rate", "0",
            "--log-level", "notice",
        ]
        return try await withProcess(
            daemon, arguments, environment: SanitizedBuild.memoryMeasuredChildEnvironment
        ) { process in
            let ready = try await process.readUntil("the ready line") { $0.contains(" ready: nc localhost ") }
            let ports = ready.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            // "... ready: nc localhost PLAIN | TLS on port TLSPORT": the last two numbers.
            #expect(ports.count >= 2, "\(ready)")
            let port = tls ? ports[ports.count - 1] : ports[ports.count - 2]
            let transport: TestClient.TLS? = tls ? .plain : nil
            await closeAll(try await openIdleClients(count: 25, port: port, tls: transport, prefix: "warm"))
            let pid = "\(process.pid)"
            let before = try TLSProcessMemory.residentBytes(of: pid)
            let clients = try await openIdleClients(count: connections, port: port, tls: transport, prefix: "m")
            let after = try TLSProcessMemory.residentBytes(of: pid)
            await closeAll(clients)
            return Figures(label: "securechatd alone, \(tls ? "TLS" : "plaintext")", before: before, after: after)
        }
    }

    @Test("1,000 idle TLS connections against 1,000 plaintext ones (RSS, printed)")
    func idleConnectionMemory() async throws {
        let limit = FileDescriptorLimit.raiseToHardLimit()
        // Both ends of every connection live in this process, plus headroom for the rest of the test run.
        try #require(limit.soft >= 2 * Self.connections + 512, "open-file limit \(limit.soft) is too low")

        var figures: [Figures] = []
        figures.append(try await Self.measureInProcess(tls: false))
        figures.append(try await Self.measureInProcess(tls: true))
        if let daemon = CertificateLoadingTests.daemon {
            figures.append(try await Self.measureDaemon(daemon, tls: false))
            figures.append(try await Self.measureDaemon(daemon, tls: true))
        }
        for figure in figures {
            print("[memory] \(figure)")
            #expect(figure.perConnection < Self.boundPerConnection, "\(figure)")
        }
    }
}
