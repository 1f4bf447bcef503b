extension ChatServer {
    /// Applies the reloadable settings of `new` (a SIGHUP), in this order: the certificate, key and client CA
    /// (a file that does not load throws, and nothing is applied); then the limits, timeouts and the rate, burst
    /// and flood settings (online sessions included); then the hub's settings. `new` must be valid
    /// (`Configuration.validate()`), and its restart-only settings are ignored.
    public func applyReloadable(_ new: Configuration) async throws {
        let next = configuration.withReloadableSettings(of: new)
        if let tlsContexts, let certificate = next.certificatePath, let key = next.privateKeyPath {
            try tlsContexts.reload(
                certificateChainPath: certificate, privateKeyPath: key, clientCAPath: next.clientCAPath,
                anyClientCertificate: next.anyClientCertificate)
            logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(certificate)"])
        }
        context.apply(reloaded: next)
        await hub.applyReloadable(next.hubConfiguration)
    }
}
