import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import SecureChat

@Suite("Password hashing: argon2id in PHC form")
struct PasswordHasherTests {
    /// Cheap parameters, so the suite runs fast; the OWASP ones are checked once.
    static let cheap = PasswordHashParameters(memoryKiB: 64, passes: 1, lanes: 1)

    @Test("the reference implementation's argon2id test vector is reproduced (the C library is called correctly)")
    func rfcVector() throws {
        // The reference implementation's own test (phc-winner-argon2 src/test.c: argon2id, v=19, m=65536, t=2,
        // p=1), which libargon2-dev is built from.
        let digest = try Argon2id.digest(
            password: Array("password".utf8), salt: Array("somesalt".utf8),
            parameters: PasswordHashParameters(memoryKiB: 1 << 16, passes: 2, lanes: 1), outputLength: 32)
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7")
    }

    @Test("a hash is a PHC string with the OWASP parameters, and verifies its password only")
    func owaspRoundTrip() throws {
        let hasher = PasswordHasher()
        let hash = try hasher.hash("correct horse battery staple")
        #expect(hash.phc.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        let parsed = try #require(PasswordHash(phc: hash.phc))
        #expect(parsed == hash)
        #expect(try hasher.verify("correct horse battery staple", against: parsed) == .match(rehashed: nil))
        #expect(try hasher.verify("correct horse battery stapl", against: parsed) == .mismatch)
    }

    @Test("two hashes of one password differ (a fresh salt each)")
    func saltsDiffer() throws {
        let hasher = PasswordHasher(parameters: Self.cheap)
        #expect(try hasher.hash("same password") != hasher.hash("same password"))
    }

    @Test("a hash made with other parameters is re-hashed with today's at a successful check, never at a failed one")
    func rehashOnParameterChange() throws {
        let old = try PasswordHasher(parameters: Self.cheap).hash("an old password")
        let today = PasswordHasher(parameters: PasswordHashParameters(memoryKiB: 128, passes: 2, lanes: 1))
        guard case .match(let rehashed?) = try today.verify("an old password", against: old) else {
            Issue.record("no re-hash")
            return
        }
        #expect(rehashed.parameters == today.parameters)
        #expect(try today.verify("an old password", against: rehashed) == .match(rehashed: nil))
        #expect(try today.verify("a wrong password", against: old) == .mismatch)
    }

    @Test(
        "strings that are not a bounded argon2id v19 hash are refused",
        arguments: [
            "", "$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=999999999,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=64,t=99,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=64,t=1,p=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=64,t=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=+64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=64,t=1,p=1$c2$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAA",
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA$",
            "$argon2id$v=19$m=4,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            // Non-canonical base64 (the last character's unused bits set): found by PasswordHashProperties.
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbH1$AAAAAAAAAAAAAAAAAAAAAA",
        ])
    func malformed(_ text: String) {
        #expect(PasswordHash(phc: text) == nil)
    }

    @Test("the comparison is equality, whatever the lengths")
    func comparison() {
        #expect(PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(PasswordHasher.constantTimeEqual([], []))
    }
}

@Suite("The password hashing pool", .timeLimit(.minutes(1)))
struct PasswordHashingPoolTests {
    @Test("past threads + queue, work is refused at once; the held jobs still finish; then it admits again")
    func bounded() async throws {
        let pool = PasswordHashingPool(threads: 1, queueCapacity: 1)
        let flags = Flags()
        let held = (0..<2).map { index in
            Task {
                try await pool.run {
                    flags.started.withLock { $0 += 1 }
                    while !flags.gate.withLock({ $0 }) { usleep(1000) }
                    return index
                }
            }
        }
        // Wait until one job runs and the other is queued (it is admitted as soon as `run` is entered).
        while flags.started.withLock({ $0 }) < 1 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await pool.run { 99 } == nil)
        flags.gate.withLock { $0 = true }
        #expect(try await held[0].value == 0)
        #expect(try await held[1].value == 1)
        #expect(try await pool.run { 7 } == 7)
        await pool.shutdown()
    }

    final class Flags: Sendable {
        let gate = Mutex(false)
        let started = Mutex(0)
    }

    @Test("the default is half the cores, at least one thread")
    func defaults() {
        #expect(PasswordHashingPool.defaultThreads == max(1, System.coreCount / 2))
    }
}
