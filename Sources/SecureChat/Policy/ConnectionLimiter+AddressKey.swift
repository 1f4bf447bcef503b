import NIOCore

extension ConnectionLimiter {
    /// The string a client's connections are counted under: its IP address without the port.
    ///
    /// IPv4 addresses (including IPv4-mapped IPv6 ones, as a dual-stack listener reports them) are used whole.
    /// IPv6 addresses are reduced to their /64 prefix (`2001:db8:aa:bb::/64`), because one subscriber usually
    /// gets a whole /64 and could otherwise open `maxPerAddress` connections from each of 2^64 addresses. Unix
    /// sockets and unknown peers share one key each. The key is `IPNetwork(host:)`'s canonical text, so it parses
    /// back with `IPNetwork(_:)`.
    public static func addressKey(for address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        guard let ip = IPAddress(address) else { return "unix" }
        return IPNetwork(host: ip).description
    }

    /// The key of the wider IPv6 network (`networkPrefixLength` bits, /48 by default) that an address key
    /// belongs to; `nil` for IPv4 and non-IP keys, which have no network cap.
    static func networkKey(forAddressKey key: String) -> String? {
        // Only IPv6 keys contain a colon; this keeps parsing off the IPv4 and opaque-key paths.
        guard key.utf8.contains(UInt8(ascii: ":")), let network = try? IPNetwork(key),
            network.address.family == .ipv6
        else {
            return nil
        }
        return network.widened(toPrefixLength: Self.networkPrefixLength).description
    }
}
