import NIOCore

extension SocketAddress {
    /// The peer's IP as users and bans see it: IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack
    /// listener reports for IPv4 clients) are shown as plain IPv4, so one client has one address.
    var displayAddress: String {
        guard let ip = self.ipAddress else { return "unknown" }
        if ip.hasPrefix("::ffff:"), ip.contains(".") { return String(ip.dropFirst(7)) }
        return ip
    }
}
