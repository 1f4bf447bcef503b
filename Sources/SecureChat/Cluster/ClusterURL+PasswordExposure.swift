import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ClusterConfiguration {
    /// Logs ``ClusterURL/passwordExposureWarning`` once at start, with the host as metadata; never the password.
    func warnIfPasswordExposed(logger: Logger) throws {
        let url = try ClusterURL(url)
        guard let warning = url.passwordExposureWarning else { return }
        logger.warning("\(warning)", metadata: ["host": "\(url.host)"])
    }
}

extension ClusterURL {
    /// The start-up warning when the URL's password would cross a network to a server whose identity is not
    /// checked: a password, a host that is not loopback, and any `sslmode` but `verify-full`. Without the host name
    /// check, whoever sits on the path can answer as the database and ask for the password in clear text. Never
    /// holds the password.
    var passwordExposureWarning: String? {
        guard password != nil, !Self.isLoopback(host), tls.verification != .chainAndHostName else { return nil }
        return "the --cluster password travels to \(host) without sslmode=verify-full: whoever can reach the path to "
            + "the database can pose as it and read the password; use sslmode=verify-full with sslrootcert="
    }

    /// `localhost`, 127.0.0.0/8, `::1` and IPv4-mapped 127.0.0.0/8: names that never leave the machine.
    static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xff, 0xff]
        return Array(bytes[0..<12]) == mappedPrefix && bytes[12] == 127
    }
}
