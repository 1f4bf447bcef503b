extension TLSError {
    /// Runs `FileSystem` operations for the TLS layer, whose callers are promised a ``TLSError`` naming the file:
    /// a `FileSystem.WriteError` comes out as `.fileUnreadable` with its path and reason, as it always read.
    static func reportingFileErrors<Result>(_ operation: () throws -> Result) throws -> Result {
        do {
            return try operation()
        } catch let error as FileSystem.WriteError {
            throw TLSError.fileUnreadable(path: error.path, reason: error.reason)
        }
    }
}
