import NIOPosix

/// Runs `body` with an event loop group of one thread, and shuts the group down afterwards, whatever `body` did.
func withEventLoopGroup<Result>(
    _ body: (MultiThreadedEventLoopGroup) async throws -> Result
) async throws -> Result {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
        let result = try await body(group)
        try await group.shutdownGracefully()
        return result
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}
