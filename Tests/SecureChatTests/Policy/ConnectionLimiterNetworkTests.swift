import NIOCore
import Testing

@testable import SecureChat

extension PolicyTests {
    /// The wider cap on an IPv6 /48, and address keys for IPv4-mapped and IPv6 clients.
    @Suite struct ConnectionLimiterNetworkTests {
        /// The address key of the `index`th /64 inside 2001:db8:aa::/48.
        private func slash64(_ index: Int) throws -> String {
            let address = try SocketAddress(ipAddress: "2001:db8:aa:\(String(index, radix: 16))::1", port: 1)
            return ConnectionLimiter.addressKey(for: address)
        }

        @Test func oneSlash48CannotOpenMoreThanItsCapAcrossManySlash64s() throws {
            let limiter = ConnectionLimiter(maxConnections: 100_000, maxPerAddress: 16, maxPerIPv6Network: 128)
            var tickets: [ConnectionTicket] = []
            for index in 0..<8 {
                for _ in 0..<16 {
                    tickets.append(try #require(limiter.tryAcquire(address: try slash64(index)).ticket))
                }
            }
            #expect(limiter.networkConnectionCount(for: try slash64(0)) == 128)
            // A ninth /64 in the same /48 is refused although it holds no connection itself.
            #expect(limiter.tryAcquire(address: try slash64(8)).refusalReason == .tooManyFromAddress)
            #expect(limiter.connectionCount(for: try slash64(8)) == 0)
            #expect(limiter.statistics.refusedByNetworkCap == 1)
            #expect(limiter.statistics.refusals[.tooManyFromAddress] == 1)
            // Another /48 and IPv4 are unaffected.
            let other = limiter.tryAcquire(address: "2001:db8:bb:1::/64").ticket
            let ipv4 = limiter.tryAcquire(address: "192.0.2.1").ticket
            #expect(other != nil && ipv4 != nil)
            #expect(limiter.statistics.trackedNetworks == 2)
            // Releasing one frees one slot in the /48.
            tickets.removeLast().release()
            let freed = limiter.tryAcquire(address: try slash64(9)).ticket
            #expect(freed != nil)
            withExtendedLifetime((tickets, other, ipv4, freed)) {}
        }

        @Test func theNetworkTableEmptiesWhenEverythingIsReleased() throws {
            let limiter = ConnectionLimiter(maxConnections: 1_000)
            let tickets = try (0..<40).map { index in
                try #require(limiter.tryAcquire(address: try slash64(index)).ticket)
            }
            #expect(limiter.statistics.trackedNetworks == 1)
            for ticket in tickets + tickets { ticket.release() }
            #expect(limiter.statistics.trackedNetworks == 0)
            #expect(limiter.networkConnectionCount(for: try slash64(0)) == 0)
        }

        @Test func zeroTurnsTheNetworkCapOff() throws {
            let limiter = ConnectionLimiter(maxConnections: 0, maxPerAddress: 1, maxPerIPv6Network: 0)
            let tickets = try (0..<300).map { index in
                try #require(limiter.tryAcquire(address: try slash64(index)).ticket)
            }
            #expect(tickets.count == 300)
        }

        @Test func theDefaultCapIs128() {
            #expect(ConnectionLimiter(maxConnections: 10).maxPerIPv6Network == 128)
            #expect(Configuration().maximumConnectionsPerIPv6Network == 128)
        }

        @Test(arguments: [
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("::ffff:cb00:7107", "203.0.113.7"),
            ("0:0:0:0:0:ffff:203.0.113.7", "203.0.113.7"),
            ("2001:db8:0:0:1::1", "2001:db8::/64"),
            ("2001:DB8:0:1::", "2001:db8:0:1::/64"),
            ("::1", "::/64"),
            ("::ffff:0:1.2.3.4", "::/64"),  // IPv4-translated, not IPv4-mapped: an IPv6 address
        ])
        func addressKeys(address: String, key: String) throws {
            #expect(ConnectionLimiter.addressKey(for: try SocketAddress(ipAddress: address, port: 1)) == key)
        }

        @Test func anIPv4MappedClientAndItsIPv4FormShareOneCount() throws {
            let limiter = ConnectionLimiter(maxConnections: 100, maxPerAddress: 2)
            let mapped = ConnectionLimiter.addressKey(for: try SocketAddress(ipAddress: "::ffff:198.51.100.9", port: 1))
            let plain = ConnectionLimiter.addressKey(for: try SocketAddress(ipAddress: "198.51.100.9", port: 2))
            let first = limiter.tryAcquire(address: mapped).ticket
            let second = limiter.tryAcquire(address: plain).ticket
            #expect(first != nil && second != nil)
            #expect(limiter.tryAcquire(address: mapped).refusalReason == .tooManyFromAddress)
            withExtendedLifetime((first, second)) {}
        }
    }
}
