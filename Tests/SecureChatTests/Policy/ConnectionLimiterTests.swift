import NIOCore
import Testing

@testable import SecureChat

extension PolicyTests {
    @Suite struct ConnectionLimiterTests {
        @Test func seventeenthFromOneAddressIsRefusedWhileAnotherIsAdmitted() throws {
            let limiter = ConnectionLimiter(maxConnections: 1_000)
            let tickets = try (0..<16).map { _ in
                try #require(limiter.tryAcquire(address: "192.0.2.1").ticket)
            }
            #expect(limiter.tryAcquire(address: "192.0.2.1").refusalReason == .tooManyFromAddress)
            let other = limiter.tryAcquire(address: "192.0.2.2").ticket
            #expect(other != nil)
            #expect(limiter.statistics.refusals[.tooManyFromAddress] == 1)
            #expect(limiter.statistics.refusals[.serverFull] == 0)
            #expect(limiter.statistics.activeConnections == 17)
            withExtendedLifetime((tickets, other)) {}
        }

        @Test func globalCapRefusesServerFull() throws {
            let limiter = ConnectionLimiter(maxConnections: 5, maxPerAddress: 16)
            let tickets = try (0..<5).map { index in
                try #require(limiter.tryAcquire(address: "198.51.100.\(index)").ticket)
            }
            #expect(limiter.tryAcquire(address: "203.0.113.9").refusalReason == .serverFull)
            #expect(limiter.tryAcquire(address: "198.51.100.0").refusalReason == .serverFull)
            #expect(limiter.statistics.refusals[.serverFull] == 2)
            #expect(limiter.statistics.activeConnections == 5)
            withExtendedLifetime(tickets) {}
        }

        @Test func releaseFreesASlot() throws {
            let limiter = ConnectionLimiter(maxConnections: 1_000, maxPerAddress: 2)
            let first = try #require(limiter.tryAcquire(address: "a").ticket)
            let second = try #require(limiter.tryAcquire(address: "a").ticket)
            #expect(limiter.tryAcquire(address: "a").ticket == nil)
            first.release()
            #expect(first.isReleased)
            let third = limiter.tryAcquire(address: "a").ticket
            #expect(third != nil)
            withExtendedLifetime((second, third)) {}
        }

        @Test func doubleReleaseIsHarmless() throws {
            let limiter = ConnectionLimiter(maxConnections: 1_000)
            let first = try #require(limiter.tryAcquire(address: "a").ticket)
            let second = try #require(limiter.tryAcquire(address: "a").ticket)
            first.release()
            first.release()
            #expect(limiter.connectionCount(for: "a") == 1)
            #expect(limiter.statistics.activeConnections == 1)
            second.release()
            second.release()
            #expect(limiter.connectionCount(for: "a") == 0)
            #expect(limiter.statistics.activeConnections == 0)
        }

        @Test func tableEmptiesWhenEverythingIsReleased() throws {
            let limiter = ConnectionLimiter(maxConnections: 10_000)
            let tickets = try (0..<300).map { index in
                try #require(limiter.tryAcquire(address: "10.0.\(index % 100).1").ticket)
            }
            #expect(limiter.statistics.trackedAddresses == 100)
            tickets.forEach { $0.release() }
            #expect(limiter.statistics.trackedAddresses == 0)
            #expect(limiter.statistics.activeConnections == 0)
        }

        @Test func droppingATicketReleasesIt() {
            let limiter = ConnectionLimiter(maxConnections: 10)
            do {
                let decision = limiter.tryAcquire(address: "a")
                #expect(limiter.connectionCount(for: "a") == 1)
                withExtendedLifetime(decision) {}
            }
            #expect(limiter.connectionCount(for: "a") == 0)
            #expect(
                limiter.statistics
                    == .init(
                        activeConnections: 0, trackedAddresses: 0,
                        refusals: [
                            .serverFull: 0, .tooManyFromAddress: 0,
                        ]))
        }

        @Test func zeroCapsMeanUnlimited() throws {
            let limiter = ConnectionLimiter(maxConnections: 0, maxPerAddress: 0)
            let tickets = try (0..<100).map { _ in try #require(limiter.tryAcquire(address: "a").ticket) }
            #expect(limiter.connectionCount(for: "a") == 100)
            withExtendedLifetime(tickets) {}
        }

        @Test func defaultGlobalCapComesFromTheOpenFileLimit() {
            let limiter = ConnectionLimiter()
            let soft = FileDescriptorLimit.current().soft
            #expect(limiter.maxConnections == FileDescriptorLimit.defaultMaxConnections(openFileLimit: soft))
            #expect(limiter.maxPerAddress == 16)
        }

        @Test func concurrentAcquireAndReleaseKeepCountsExact() async {
            let limiter = ConnectionLimiter(maxConnections: 100_000, maxPerAddress: 100_000)
            await withTaskGroup(of: Void.self) { group in
                for task in 0..<32 {
                    group.addTask {
                        for iteration in 0..<500 {
                            let address = "10.0.0.\((task + iteration) % 8)"
                            guard let ticket = limiter.tryAcquire(address: address).ticket else {
                                Issue.record("refused below the caps")
                                continue
                            }
                            // Race two releases of the same ticket against each other.
                            async let racer: Void = ticket.release()
                            ticket.release()
                            await racer
                        }
                    }
                }
            }
            #expect(limiter.statistics.activeConnections == 0)
            #expect(limiter.statistics.trackedAddresses == 0)
        }

        @Test func concurrentAcquireNeverExceedsTheCaps() async {
            let limiter = ConnectionLimiter(maxConnections: 50, maxPerAddress: 16)
            let decisions = await withTaskGroup(of: AdmissionDecision.self) { group in
                for index in 0..<400 {
                    group.addTask { limiter.tryAcquire(address: "172.16.0.\(index % 10)") }
                }
                return await group.reduce(into: [AdmissionDecision]()) { $0.append($1) }
            }
            let admitted = decisions.compactMap(\.ticket)
            #expect(admitted.count == 50)
            let statistics = limiter.statistics
            #expect(statistics.activeConnections == 50)
            #expect((statistics.refusals[.serverFull] ?? 0) + (statistics.refusals[.tooManyFromAddress] ?? 0) == 350)
            for address in 0..<10 {
                #expect(limiter.connectionCount(for: "172.16.0.\(address)") <= 16)
            }
            await withTaskGroup(of: Void.self) { group in
                for ticket in admitted + admitted {
                    group.addTask { ticket.release() }
                }
            }
            #expect(limiter.statistics.activeConnections == 0)
            #expect(limiter.statistics.trackedAddresses == 0)
        }

        @Test(arguments: [
            ("203.0.113.7", "203.0.113.7"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
            ("2001:db8:aa:bb:ffff::1", "2001:db8:aa:bb::/64"),
        ])
        func addressKeyGroupsByIPAndIPv6Prefix(address: String, key: String) throws {
            let socketAddress = try SocketAddress(ipAddress: address, port: 4242)
            #expect(ConnectionLimiter.addressKey(for: socketAddress) == key)
        }

        @Test func addressKeyForMissingAddress() {
            #expect(ConnectionLimiter.addressKey(for: nil) == "unknown")
        }
    }
}
