import Logging
import SecureChat

extension SecureChatDaemon {
    /// The server's configuration from the parsed options, checked: at start and on each SIGHUP reload.
    /// Creates the development certificates when `--cert`/`--key` are not given (and TLS is on).
    func makeConfiguration(logger: Logger, announceCertificates: Bool = true) throws -> Configuration {
        var configuration = Configuration()
        hub.apply(to: &configuration)
        limits.apply(to: &configuration)
        budgets.apply(to: &configuration)
        operations.apply(to: &configuration)
        // Unsafe combinations of limits stop the server here, before certificates are created or ports bound.
        try configuration.validate()
        try listeners.apply(to: &configuration, logger: logger, announce: announceCertificates)
        try cluster.apply(to: &configuration)
        try configuration.validate()
        return configuration
    }
}
