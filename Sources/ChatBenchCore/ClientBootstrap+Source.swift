import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

extension ClientBootstrap {
    /// Binds the client to the `index`-th of `addresses` (round robin), without reserving a port at bind time
    /// (IP_BIND_ADDRESS_NO_PORT), so connections spread over loopback addresses past one address's ephemeral
    /// ports. No addresses: the kernel chooses.
    func bindingSource(_ index: Int, of addresses: [SocketAddress]) -> ClientBootstrap {
        guard !addresses.isEmpty else { return self }
        let source = addresses[index % addresses.count]
        var bootstrap = self
        if source.protocol == .inet {
            bootstrap = bootstrap.channelOption(
                ChannelOptions.socket(SocketOptionLevel(IPPROTO_IP), IPBindAddressNoPort.option), value: 1
            )
        }
        return bootstrap.bind(to: source)
    }
}
