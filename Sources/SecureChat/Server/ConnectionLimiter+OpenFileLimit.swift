// Here rather than in Policy/: the limiter is a pure rule, and reading the process's open-file limit is the
// server's business.
extension ConnectionLimiter {
    /// A limiter whose global cap comes from the process's current open-file limit (call
    /// `FileDescriptorLimit.raiseToHardLimit()` first), via `FileDescriptorLimit.defaultMaxConnections`.
    public convenience init(
        maxPerAddress: Int = 16, maxPerIPv6Network: Int = ConnectionLimiter.defaultMaxPerIPv6Network
    ) {
        let openFiles = FileDescriptorLimit.current().soft
        self.init(
            maxConnections: FileDescriptorLimit.defaultMaxConnections(openFileLimit: openFiles),
            maxPerAddress: maxPerAddress, maxPerIPv6Network: maxPerIPv6Network
        )
    }
}
