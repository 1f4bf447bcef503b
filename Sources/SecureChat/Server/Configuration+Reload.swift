extension Configuration {
    /// This configuration with the settings a running server may change (SIGHUP) taken from `new`; every other
    /// setting stays as it is (README.md, "Configuration", lists both kinds).
    public func withReloadableSettings(of new: Configuration) -> Configuration {
        var result = self
        // Rate, burst and flood settings.
        result.ratePerSecond = new.ratePerSecond
        result.burst = new.burst
        result.floodRefusals = new.floodRefusals
        result.floodWindow = new.floodWindow
        // Timeouts.
        result.loginTimeout = new.loginTimeout
        result.writeTimeout = new.writeTimeout
        result.idleTimeout = new.idleTimeout
        // Per-address and connect-rate limits.
        result.maximumConnectionsPerAddress = new.maximumConnectionsPerAddress
        result.maximumConnectionsPerIPv6Network = new.maximumConnectionsPerIPv6Network
        result.connectRatePerAddress = new.connectRatePerAddress
        result.connectBurst = new.connectBurst
        result.connectRatePerIPv6Network = new.connectRatePerIPv6Network
        // Rooms, messages and operators.
        result.announceLimit = new.announceLimit
        result.maximumRooms = new.maximumRooms
        result.logMessages = new.logMessages
        result.operatorFingerprints = new.operatorFingerprints
        result.operatorAccounts = new.operatorAccounts
        // The certificate, its key and the client CA.
        result.certificatePath = new.certificatePath
        result.privateKeyPath = new.privateKeyPath
        result.clientCAPath = new.clientCAPath
        result.anyClientCertificate = new.anyClientCertificate
        return result
    }
}
