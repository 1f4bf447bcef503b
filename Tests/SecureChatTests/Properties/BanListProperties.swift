import PropertyBased
import Testing

@testable import SecureChat

/// Properties of `IPNetwork` and of `BanList`'s address look-ups.
@Suite("BanList and IPNetwork properties")
struct BanListProperties {
    /// An address as 128 bits (an IPv4 address in the top 32), and its family.
    struct Bits: Sendable, CustomStringConvertible {
        var isIPv4: Bool
        var high: UInt64
        var low: UInt64

        var bitCount: Int { isIPv4 ? 32 : 128 }

        /// The address with bit `index` (0 = most significant) flipped; `index` past the end flips nothing.
        func flipping(_ index: Int) -> Bits {
            var copy = self
            if index < min(64, bitCount) {
                copy.high ^= 1 << (63 - index)
            } else if index < bitCount {
                copy.low ^= 1 << (127 - index)
            }
            return copy
        }

        /// Written out in full and parsed, so the parser is part of the property.
        var text: String {
            if isIPv4 {
                return [56, 48, 40, 32].map { String((high >> $0) & 0xFF) }.joined(separator: ".")
            }
            let groups = [high, low].flatMap { word in
                [48, 32, 16, 0].map { String((word >> $0) & 0xFFFF, radix: 16) }
            }
            return groups.joined(separator: ":")
        }

        var address: IPAddress? {
            // An IPv6 address that happens to be IPv4-mapped (odds 2^-80) is IPv4: skip it rather than model it.
            IPAddress(text).flatMap { $0.family == (isIPv4 ? .ipv4 : .ipv6) ? $0 : nil }
        }

        var description: String { text }
    }

    static let bits = zip(Gen.bool, Gen<UInt64>.value(), Gen<UInt64>.value()).map { isIPv4, high, low in
        Bits(isIPv4: isIPv4, high: isIPv4 ? high & 0xFFFF_FFFF_0000_0000 : high, low: isIPv4 ? 0 : low)
    }

    /// A network near an address: the address with one bit flipped (or none), at a random prefix length.
    struct Near: Sendable {
        var flip: Int
        var prefixLength: Int
    }

    static let near = zip(Gen.int(in: 0...128), Gen.int(in: 0...128)).map { Near(flip: $0, prefixLength: $1) }

    @Test("a network contains an address iff they agree on the network's prefix bits")
    func containsMatchesTheBits() async {
        await propertyCheck(count: 300, input: Self.bits, Self.near) { bits, near in
            let prefixLength = near.prefixLength % (bits.bitCount + 1)
            let flip = near.flip % (bits.bitCount + 1)
            guard let address = bits.address, let other = bits.flipping(flip).address else { return }
            let network = try #require(IPNetwork(containing: other, prefixLength: prefixLength))
            let agree = flip == bits.bitCount || flip >= prefixLength
            #expect(network.contains(address) == agree, "\(network) / \(address)")
        }
    }

    @Test("an address matches a ban on network N iff N contains it")
    func banMatchesIffContains() async {
        await propertyCheck(count: 200, input: Self.bits, Self.near.array(of: 0...5), Self.bits.array(of: 0...3)) {
            bits, nearby, strangers in
            guard let address = bits.address else { return }
            var networks: [IPNetwork] = []
            for near in nearby {
                guard let other = bits.flipping(near.flip % (bits.bitCount + 1)).address else { continue }
                let prefixLength = near.prefixLength % (bits.bitCount + 1)
                networks.append(try #require(IPNetwork(containing: other, prefixLength: prefixLength)))
            }
            for stranger in strangers {
                guard let other = stranger.address else { continue }
                networks.append(IPNetwork(host: other))
            }
            let list = BanList(
                networks.map { network in
                    Ban(
                        name: nil, network: network, bannedBy: "op", bannedAt: Timestamp(secondsSinceEpoch: 0),
                        reason: nil)
                })
            let expected = networks.contains { $0.contains(address) }
            let match = list.matching(address: address)
            #expect((match != nil) == expected, "\(address) against \(networks)")
            if let network = match?.network {
                #expect(network.contains(address))
            }
            #expect(list.matching(address: address.description)?.network == match?.network)
        }
    }

    @Test("IPNetwork(description) round-trips")
    func descriptionRoundTrips() async {
        await propertyCheck(count: 300, input: Self.bits, Gen.int(in: 0...128)) { bits, prefix in
            guard let address = bits.address else { return }
            let network = try #require(IPNetwork(containing: address, prefixLength: prefix % (bits.bitCount + 1)))
            let parsed = try IPNetwork(network.description)
            #expect(parsed == network)
            #expect(parsed.description == network.description)
            #expect(parsed.prefixLength == network.prefixLength)
        }
    }
}
