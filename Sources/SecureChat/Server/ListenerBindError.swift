import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A listener that could not open its port, said in one line that names the listener, the port and the flag
/// to change: `the plaintext port 9000 is already in use (--port)`.
public struct ListenerBindError: Error, CustomStringConvertible {
    /// `plaintext`, `TLS` or `metrics`.
    public let listener: String
    public let host: String
    public let port: Int
    /// The command-line option that sets the port (`--port`, `--tls-port`, `--metrics-port`).
    public let flag: String
    /// The flag that sets the address (`--host`, `--metrics-host`).
    public let hostFlag: String
    /// `errno` of the failed call, when the system gave one.
    public let errnoCode: CInt?

    public var description: String {
        switch errnoCode {
        case EADDRINUSE:
            return "the \(listener) port \(port) is already in use (\(flag))"
        case EACCES:
            return "the \(listener) port \(port) needs privileges this user does not have (\(flag))"
        case EADDRNOTAVAIL:
            return "the \(listener) address \(host) is not an address of this machine (\(hostFlag) \(host))"
        case let code?:
            return
                "cannot listen on the \(listener) port \(port) at \(host): \(String(cString: strerror(code))) (\(flag))"
        case nil:
            return "cannot listen on the \(listener) port \(port) at \(host) (\(flag), \(hostFlag))"
        }
    }

    /// Wraps what `bind` threw; an `IOError` carries the `errno`.
    init(listener: String, host: String, port: Int, flag: String, hostFlag: String, underlying: any Error) {
        self.listener = listener
        self.host = host
        self.port = port
        self.flag = flag
        self.hostFlag = hostFlag
        self.errnoCode = (underlying as? IOError)?.errnoCode
    }
}
