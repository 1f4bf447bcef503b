import NIOConcurrencyHelpers
import NIOCore
import SecureChat

/// The soak's background clients: each worker repeats one kind of visit until the deadline.
struct SoakWorkers: Sendable {
    let env: BenchEnvironment
    let plaintext: BenchTarget
    let secure: BenchTarget
    let plan: SoakPlan
    let deadline: NIODeadline
    let timeout: TimeAmount
    let slowStall: TimeAmount
    let slowReaders: Int
    let churnPause: TimeAmount
    let counters: NIOLockedValueBox<SoakCounters>
    /// Numbers connections (names and source addresses) past the steady clients'.
    let serial: NIOLockedValueBox<Int>

    private func nextSerial() -> Int {
        serial.withLockedValue {
            $0 += 1
            return $0
        }
    }

    private var running: Bool { NIODeadline.now() < deadline }

    /// Sleeps `amount`, or less if the deadline comes first.
    private func pause(_ amount: TimeAmount) async {
        let left = deadline - NIODeadline.now()
        let nanos = min(amount.nanoseconds, left.nanoseconds)
        if nanos > 0 { try? await Task.sleep(nanoseconds: UInt64(nanos)) }
    }

    private func fail(_ text: String) {
        counters.withLockedValue { $0.fail(text) }
    }

    /// Logs a new client in, or records why it could not.
    private func login(_ role: String, tls: Bool, receiveBuffer: Int? = nil) async -> (ScriptedConnection, Int)? {
        let serial = nextSerial()
        let name = "\(env.namePrefix)\(role)\(serial)"
        do {
            let connection = try await env.connector.connectScripted(
                index: serial, name: name, target: tls ? secure : plaintext, receiveBuffer: receiveBuffer
            ).get()
            guard await ProbeTimer.wait(for: connection.loggedIn, on: connection.channel.eventLoop, timeout: timeout)
            else {
                await connection.close()
                fail("\(role) login \(serial): no welcome within the timeout")
                return nil
            }
            return (connection, serial)
        } catch {
            fail("\(role) login \(serial): \(error)")
            return nil
        }
    }

    private func ping(_ connection: ScriptedConnection) async -> Bool {
        let pong = connection.onLoop { $0.ping() }
        return await ProbeTimer.wait(for: pong, on: connection.channel.eventLoop, timeout: timeout)
    }

    // MARK: Logins and quits, abrupt disconnects, drops before login

    func churner() async {
        while running {
            let serial = nextSerial()
            let kind = ChurnPlan.kind(of: serial)
            let tls = ChurnPlan.usesTLS(serial, ratio: 0.5)
            if let error = await ChurnScenario.one(
                index: serial, kind: kind, target: tls ? secure : plaintext, env: env, timeout: timeout)
            {
                fail("churn \(kind.rawValue) \(tls ? "tls" : "plaintext"): \(error)")
            } else {
                counters.withLockedValue { $0.churn[kind, default: 0] += 1 }
            }
            await pause(churnPause)
        }
    }

    // MARK: Room moves

    func mover(_ worker: Int) async {
        var session = 0
        while running {
            session += 1
            guard case (let connection, let serial)? = await login("m", tls: (worker + session) % 2 == 1) else {
                await pause(.seconds(1))
                continue
            }
            counters.withLockedValue { $0.moverSessions += 1 }
            var generator = SystemRandomNumberGenerator()
            var current = "#lobby"
            for step in 0..<8 where running {
                var lines: [String]
                if step % 3 == 2, current != "#lobby" {
                    lines = ["/leave"]
                    current = "#lobby"
                } else {
                    let rooms = (plan.groups.map(\.room) + ["#mover-\(serial)"]).filter { $0 != current }
                    current = rooms[Int.random(in: 0..<rooms.count, using: &generator)]
                    lines = ["/join \(current)"]
                }
                lines.append("mover \(serial) passing through")
                if step % 4 == 1 { lines.append(step % 8 == 1 ? "/rooms" : "/users") }
                do { try await connection.send(lines) } catch { break }
                guard await ping(connection) else {
                    fail("mover \(serial): no pong")
                    break
                }
                counters.withLockedValue { $0.moves += 1 }
                await pause(.milliseconds(Int64.random(in: 1500...3000, using: &generator)))
            }
            let report = try? await connection.report()
            if let report, report.errorCount > 0 || report.unexpectedClose || report.refusals > 0 {
                counters.withLockedValue { $0.moverErrors += max(report.errorCount + report.refusals, 1) }
                let lost = report.unexpectedClose ? ["connection lost"] : []
                let refused = report.refusals > 0 ? ["\(report.refusals) lines refused"] : []
                fail("mover \(serial): " + (report.errors + lost + refused).joined(separator: " | "))
            }
            if session % 2 == 0 {
                await connection.close()
            } else if !(await connection.quit("moved enough", timeout: timeout)) {
                fail("mover \(serial): server did not close after /quit")
            }
        }
    }

    // MARK: Flooding

    /// Odd sessions flood (100 lines/s) until the server says `Disconnected for flooding.` and closes; even
    /// ones send one burst of 15 lines (5 over the burst of 10), which must be refused in part without a
    /// disconnect.
    func flooder(_ worker: Int) async {
        var session = 0
        while running {
            session += 1
            guard case (let connection, let serial)? = await login("f", tls: (worker + session) % 2 == 1) else {
                await pause(.seconds(1))
                continue
            }
            do {
                try await connection.send(["/join #soak-flood"])
                guard await ping(connection) else { throw BenchError.timedOut("pong") }
                // The bucket refills at 5 lines/s: wait until the /join and /ping are paid for.
                try await Task.sleep(nanoseconds: 2_000_000_000)
                if session % 2 == 1 {
                    try await flood(connection, serial: serial)
                } else {
                    try await burst(connection, serial: serial)
                }
            } catch {
                fail("flooder \(serial): \(error)")
                await connection.close()
            }
            await pause(.seconds(2))
        }
    }

    private func flood(_ connection: ScriptedConnection, serial: Int) async throws {
        _ = try await connection.withHandler { $0.closingExpected = true }
        var sent = 0
        while sent < 300, !(try await connection.report().closed) {
            try await connection.send((0..<10).map { "flood \(serial) line \(sent + $0)" })
            sent += 10
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let closed = await connection.waitForClose(timeout: timeout)
        let report = try await connection.report()
        counters.withLockedValue {
            $0.floods += 1
            $0.refusals += report.refusals
            if report.floodDisconnected && closed { $0.floodDisconnects += 1 }
        }
        if !(report.floodDisconnected && closed) {
            fail("flooder \(serial): \(sent) lines at 100/s, \(report.refusals) refused, not disconnected")
            await connection.close()
        }
    }

    private func burst(_ connection: ScriptedConnection, serial: Int) async throws {
        try await connection.send((0..<15).map { "burst \(serial) line \($0)" })
        // Long enough for the bucket to refill, so the /ping itself is not refused.
        try await Task.sleep(nanoseconds: 2_000_000_000)
        guard await ping(connection) else { throw BenchError.timedOut("pong after a burst") }
        let report = try await connection.report()
        counters.withLockedValue {
            $0.bursts += 1
            $0.refusals += report.refusals
        }
        if report.refusals == 0 || report.floodDisconnected || report.unexpectedClose {
            let disconnected = report.floodDisconnected || report.unexpectedClose
            fail("burst \(serial): 15 lines at once, \(report.refusals) refused, disconnected: \(disconnected)")
        }
        if !(await connection.quit("burst done", timeout: timeout)) {
            fail("burst \(serial): server did not close after /quit")
        }
    }

    // MARK: Slow readers

    /// Joins the slow-reader room with a 4 KiB receive buffer and stops reading for `slowStall`: the
    /// server's writes to it stall and it must be evicted (README: a socket unwritable for `--write-timeout`,
    /// or an outbox past `--outbox-bytes`). Then reads again to find the connection closed.
    func slowReader(_ worker: Int) async {
        var session = 0
        while running {
            session += 1
            if session == 1 {
                // Staggered, so that the slow readers do not all hold a full outbox at the same moment.
                await pause(.nanoseconds(slowStall.nanoseconds * Int64(worker) / Int64(max(slowReaders, 1))))
            }
            guard
                case (let connection, let serial)? = await login(
                    "r", tls: (worker + session) % 2 == 1, receiveBuffer: 4096)
            else {
                await pause(.seconds(1))
                continue
            }
            do {
                try await connection.send(["/join \(plan.slowReaderRoom)"])
                guard await ping(connection) else { throw BenchError.timedOut("pong") }
                _ = try await connection.withHandler { $0.closingExpected = true }
                try await connection.onLoop { $0.setReading(false) }.get()
                let stallStart = NIODeadline.now()
                await pause(slowStall)
                let stalledFully = NIODeadline.now() - stallStart >= slowStall
                // Reading again drains what the kernel still holds, then finds the close if there was one.
                _ = try? await connection.onLoop { $0.setReading(true) }.get()
                let closed = await connection.waitForClose(timeout: .seconds(20))
                counters.withLockedValue {
                    $0.slowReaders += 1
                    if closed {
                        $0.slowEvicted += 1
                    } else if !stalledFully {
                        $0.slowCutShort += 1
                    }
                }
                if !closed {
                    if stalledFully {
                        fail("slow reader \(serial): not evicted after \(slowStall.nanoseconds / 1_000_000_000) s")
                    }
                    await connection.close()
                }
            } catch {
                fail("slow reader \(serial): \(error)")
                await connection.close()
            }
            await pause(.seconds(1))
        }
    }

    // MARK: Garbage, half handshakes, TLS on the plaintext port

    /// Cycles through: random bytes to the TLS port, an HTTP request to the TLS port, a ClientHello to the
    /// plaintext port, a real TLS client on the plaintext port. Each must be closed by the server; TLS on
    /// the plaintext port must first be told so in plain words.
    func abuser(_ worker: Int) async {
        var round = worker
        var generator = SystemRandomNumberGenerator()
        while running {
            round += 1
            let serial = nextSerial()
            switch round % 4 {
            case 0:
                let bytes = ProbeBytes.garbage(count: Int.random(in: 1...300, using: &generator), using: &generator)
                await expectClose("garbage", serial: serial, target: secure, tls: nil, send: bytes)
            case 1:
                await expectClose(
                    "HTTP on the TLS port", serial: serial, target: secure, tls: nil,
                    send: Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            case 2:
                await expectClose(
                    "ClientHello on the plaintext port", serial: serial, target: plaintext, tls: nil,
                    send: ProbeBytes.truncatedClientHello(using: &generator), answer: "plaintext port")
            default:
                // The recorder keeps the server's answer from OpenSSL, which would fail on the greeting and close
                // before the answer arrives.
                await expectClose(
                    "TLS client on the plaintext port", serial: serial, target: plaintext, tls: secure.tls, send: [],
                    answer: "plaintext port", forward: false)
            }
            await pause(.milliseconds(Int64.random(in: 500...1500, using: &generator)))
        }
    }

    private func expectClose(
        _ what: String, serial: Int, target: BenchTarget, tls: TLSContext?, send: [UInt8], answer: String? = nil,
        forward: Bool = true
    ) async {
        let outcome = await env.connector.probe(
            index: serial, target: target, tls: tls, send: send, closeOnFirstRead: false, forward: forward,
            timeout: .seconds(10))
        guard outcome.connected else { return fail("\(what): could not connect") }
        guard outcome.closed else { return fail("\(what): the server did not close within 10 s") }
        if let answer, !outcome.receivedText.contains(answer) {
            return fail("\(what): no plain-words answer (got \(outcome.received.count) bytes)")
        }
        counters.withLockedValue {
            if answer != nil { $0.tlsOnPlaintext += 1 } else { $0.garbage += 1 }
        }
    }

    /// Half handshakes on the TLS port: a ClientHello cut short, or a connection that never says anything.
    /// Both must be closed by the server at its login timeout (30 s by default), not kept forever.
    func halfHandshaker(_ worker: Int) async {
        var round = worker
        var generator = SystemRandomNumberGenerator()
        while running {
            round += 1
            let serial = nextSerial()
            let bytes = round % 2 == 0 ? ProbeBytes.truncatedClientHello(using: &generator) : []
            let outcome = await env.connector.probe(
                index: serial, target: secure, tls: nil, send: bytes, closeOnFirstRead: false,
                timeout: timeout + .seconds(15))
            if !outcome.connected {
                fail("half handshake: could not connect")
            } else if !outcome.closed {
                fail("half handshake (\(bytes.isEmpty ? "silent" : "ClientHello cut short")): not closed by the server")
            } else {
                counters.withLockedValue { $0.halfHandshakes += 1 }
            }
            await pause(.seconds(1))
        }
    }
}
