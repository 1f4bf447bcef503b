import NIOCore

extension ConnectionLimiter {
    /// The string a client's connections are counted under: its IP address without the port.
    ///
    /// IPv4 addresses (including IPv4-mapped IPv6 ones, as a dual-stack listener reports them) are used whole.
    /// IPv6 addresses are reduced to their /64 prefix, because one subscriber usually gets a whole /64 and
    /// could otherwise open `maxPerAddress` connections from each of 2^64 addresses. Unix sockets and unknown
    /// peers share one key each.
    public static func addressKey(for address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        switch address {
        case .v4:
            return address.ipAddress ?? "unknown"
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return bytes[12..<16].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { index in
                String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16)
            }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket:
            return "unix"
        }
    }
}
