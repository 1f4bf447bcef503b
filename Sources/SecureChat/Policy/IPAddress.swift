import NIOCore

/// One IPv4 or IPv6 address as a value, for connection limits and bans.
///
/// An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, as a dual-stack listener reports IPv4 clients) is the
/// IPv4 address: the same client must count, and be banned, the same whichever way it is written.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: Hashable, Sendable {
        case ipv4
        case ipv6

        /// Bits in an address of this family.
        public var bitCount: Int { self == .ipv4 ? 32 : 128 }
    }

    public let family: Family
    /// The address's bits, left-aligned in 128 (an IPv4 address fills the top 32 bits of `high`), so that
    /// masking works the same for both families.
    let high: UInt64
    let low: UInt64

    init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    /// Parses a numeric IPv4 (`203.0.113.7`) or IPv6 (`2001:db8::1`, `::ffff:203.0.113.7`) address; `nil` for
    /// anything else (names, ports, zone indices, spaces).
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.allSatisfy(Self.isAddressByte),
            let address = try? SocketAddress(ipAddress: text, port: 0)
        else {
            return nil
        }
        self.init(address)
    }

    /// The IP address of a socket address (its port ignored); `nil` for a Unix domain socket.
    public init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            self.init(ipv4: UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            let (high, low) = withUnsafeBytes(of: v6.address.sin6_addr) { raw in
                (
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
            if high == 0, low >> 32 == 0xFFFF {
                self.init(ipv4: UInt32(truncatingIfNeeded: low))
            } else {
                self.init(family: .ipv6, high: high, low: low)
            }
        case .unixDomainSocket:
            return nil
        }
    }

    /// Hex digits, dots and colons only: the system parser would also take a zone index (`fe80::1%eth0`).
    private static func isAddressByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "."), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }

    init(ipv4 value: UInt32) {
        self.init(family: .ipv4, high: UInt64(value) << 32, low: 0)
    }

    /// The address with all but its first `prefixLength` bits cleared (`prefixLength` within the family's
    /// bit count).
    public func masked(toPrefixLength prefixLength: Int) -> IPAddress {
        precondition((0...family.bitCount).contains(prefixLength), "prefix length out of range")
        let highMask: UInt64 = prefixLength >= 64 ? .max : (prefixLength == 0 ? 0 : .max << (64 - prefixLength))
        let lowMask: UInt64 = prefixLength <= 64 ? 0 : (prefixLength == 128 ? .max : .max << (128 - prefixLength))
        return IPAddress(family: family, high: high & highMask, low: low & lowMask)
    }

    /// Dotted decimal for IPv4; RFC 5952 for IPv6 (lower case, no leading zeros, the longest run of two or
    /// more zero groups as `::`), so equal addresses always print alike.
    public var description: String {
        switch family {
        case .ipv4:
            let value = UInt32(truncatingIfNeeded: high >> 32)
            return [24, 16, 8, 0].map { String((value >> $0) & 0xFF) }.joined(separator: ".")
        case .ipv6:
            return Self.ipv6Text(
                groups: (0..<8).map { index in
                    let word = index < 4 ? high : low
                    return UInt16(truncatingIfNeeded: word >> (48 - 16 * (index % 4)))
                })
        }
    }

    private static func ipv6Text(groups: [UInt16]) -> String {
        // The longest run of zero groups (the first one on a tie), if it is at least two long.
        var best: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < groups.count, groups[index] == 0 { index += 1 }
            if index - start >= 2, index - start > best?.count ?? 0 { best = start..<index }
        }
        let hex = { (slice: ArraySlice<UInt16>) in slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard let best else { return hex(groups[...]) }
        return hex(groups[..<best.lowerBound]) + "::" + hex(groups[best.upperBound...])
    }
}
