import Foundation
import NIOCore
import Testing

@testable import SecureChat

extension PolicyTests {
    @Suite struct IPNetworkTests {
        @Test(arguments: [
            ("203.0.113.7", "203.0.113.7", 32),
            ("203.0.113.0/24", "203.0.113.0/24", 24),
            ("203.0.113.7/24", "203.0.113.0/24", 24),  // host bits cleared
            ("203.0.113.7/32", "203.0.113.7", 32),
            ("0.0.0.0/0", "0.0.0.0/0", 0),
            ("2001:db8::/48", "2001:db8::/48", 48),
            ("2001:db8::1", "2001:db8::/64", 64),  // a bare IPv6 address is its /64
            ("2001:DB8:0:0:1::1/128", "2001:db8::1:0:0:1/128", 128),
            ("2001:db8:aa:bb:cc::/56", "2001:db8:aa::/56", 56),
            ("::/0", "::/0", 0),
            ("::ffff:203.0.113.7", "203.0.113.7", 32),  // IPv4-mapped is IPv4
            ("::ffff:203.0.113.0/120", "203.0.113.0/24", 24),
            ("::ffff:0:0/96", "0.0.0.0/0", 0),
            ("1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128", 128),  // the longer zero run is compressed
            ("1:0:0:2:0:0:3:4/128", "1::2:0:0:3:4/128", 128),  // on a tie, the first
            ("1:0:2:3:4:5:6:7/128", "1:0:2:3:4:5:6:7/128", 128),  // a single zero group stays
        ])
        func parsesAndPrintsCanonically(text: String, canonical: String, prefixLength: Int) throws {
            let network = try IPNetwork(text)
            #expect(network.description == canonical)
            #expect(network.prefixLength == prefixLength)
            #expect(try IPNetwork(canonical) == network)
        }

        @Test(arguments: [
            ("", IPNetworkParseError.Reason.notAnAddress),
            ("example.com", .notAnAddress),
            ("203.0.113", .notAnAddress),
            ("203.0.113.256", .notAnAddress),
            (" 203.0.113.7", .notAnAddress),
            ("203.0.113.7:80", .notAnAddress),
            ("fe80::1%eth0", .notAnAddress),
            ("/24", .notAnAddress),
            ("203.0.113.0/", .badPrefix),
            ("203.0.113.0/x", .badPrefix),
            ("203.0.113.0/-1", .badPrefix),
            ("203.0.113.0/+8", .badPrefix),
            ("203.0.113.0/24/8", .badPrefix),
            ("203.0.113.0/0024", .badPrefix),
            ("203.0.113.0/33", .prefixOutOfRange),
            ("2001:db8::/129", .prefixOutOfRange),
            ("::ffff:203.0.113.0/129", .prefixOutOfRange),
            ("::ffff:203.0.113.0/64", .mappedPrefixTooShort),
        ])
        func refusesBadInputWithAClearReason(text: String, reason: IPNetworkParseError.Reason) {
            #expect {
                try IPNetwork(text)
            } throws: { error in
                guard let error = error as? IPNetworkParseError else { return false }
                return error.reason == reason && error.input == text && error.description.contains("'\(text)'")
            }
        }

        @Test(arguments: [
            ("203.0.113.0/24", "203.0.113.255", true),
            ("203.0.113.0/24", "203.0.114.0", false),
            ("203.0.113.0/24", "::ffff:203.0.113.9", true),
            ("203.0.113.7", "203.0.113.7", true),
            ("203.0.113.7", "203.0.113.8", false),
            ("2001:db8::/48", "2001:db8:0:ffff::1", true),
            ("2001:db8::/48", "2001:db8:1::1", false),
            ("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff", true),  // the /64
            ("2001:db8::1", "2001:db8:0:1::", false),
            ("0.0.0.0/0", "2001:db8::1", false),  // never across families
            ("::/0", "203.0.113.7", false),
            ("203.0.113.0/24", "not an address", false),
        ])
        func containsAddresses(network: String, address: String, expected: Bool) throws {
            let network = try IPNetwork(network)
            #expect(network.contains(address) == expected)
            if let socketAddress = try? SocketAddress(ipAddress: address, port: 9000) {
                #expect(network.contains(socketAddress) == expected)
            }
        }

        @Test func aUnixSocketIsInNoNetwork() throws {
            let unix = try SocketAddress(unixDomainSocketPath: "/tmp/securechat-test.sock")
            #expect(!(try IPNetwork("0.0.0.0/0")).contains(unix))
            #expect(IPNetwork.key(of: unix, prefixLength: 0) == nil)
        }

        @Test(arguments: [
            ("2001:db8:aa:bb::1", 48, "2001:db8:aa::/48"),
            ("2001:db8:aa:bb::1", 64, "2001:db8:aa:bb::/64"),
            ("2001:db8:aa:bb::1", 128, "2001:db8:aa:bb::1/128"),
            ("203.0.113.7", 24, "203.0.113.0/24"),
            ("203.0.113.7", 32, "203.0.113.7"),
            ("::ffff:203.0.113.7", 16, "203.0.0.0/16"),
        ])
        func keysForBanDictionaries(address: String, prefixLength: Int, key: String) throws {
            #expect(IPNetwork.key(of: address, prefixLength: prefixLength) == key)
            let socketAddress = try SocketAddress(ipAddress: address, port: 1)
            #expect(IPNetwork.key(of: socketAddress, prefixLength: prefixLength) == key)
            // A network's own text is the key of every address in it at its prefix length.
            #expect(try IPNetwork(key).description == key)
        }

        @Test func keysRefuseLengthsBeyondTheFamily() {
            #expect(IPNetwork.key(of: "203.0.113.7", prefixLength: 33) == nil)
            #expect(IPNetwork.key(of: "2001:db8::1", prefixLength: 129) == nil)
            #expect(IPNetwork.key(of: "203.0.113.7", prefixLength: -1) == nil)
            #expect(IPNetwork.key(of: "nonsense", prefixLength: 24) == nil)
        }

        @Test func widenedToAShorterPrefixOnly() throws {
            let slash64 = try IPNetwork("2001:db8:aa:bb::/64")
            #expect(slash64.widened(toPrefixLength: 48).description == "2001:db8:aa::/48")
            #expect(slash64.widened(toPrefixLength: 96) == slash64)
        }

        @Test func codableAsItsCanonicalString() throws {
            let networks = try ["203.0.113.7/24", "2001:db8::1", "::ffff:198.51.100.1"].map(IPNetwork.init)
            let data = try JSONEncoder().encode(networks)
            #expect(String(decoding: data, as: UTF8.self) == #"["203.0.113.0\/24","2001:db8::\/64","198.51.100.1"]"#)
            #expect(try JSONDecoder().decode([IPNetwork].self, from: data) == networks)
            #expect(throws: DecodingError.self) {
                try JSONDecoder().decode([IPNetwork].self, from: Data(#"["203.0.113.0/33"]"#.utf8))
            }
        }

        @Test func bareAddressesUseTheLimiterGranularity() throws {
            let address = try SocketAddress(ipAddress: "2001:db8:aa:bb:1:2:3:4", port: 1)
            let key = ConnectionLimiter.addressKey(for: address)
            #expect(try IPNetwork("2001:db8:aa:bb:1:2:3:4").description == key)
            #expect(try IPNetwork(key).contains(address))
        }
    }
}
