/// Polls `condition` until it holds; throws after `failsafe`. For effects the server records asynchronously
/// (a counter bumped after the socket closed, a ban file written, a slot released). Not a timing assertion:
/// the deadline only keeps a broken server from hanging the test.
func eventually(
    _ description: String,
    failsafe: Duration = .seconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + failsafe
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { throw TestTimeout(waitingFor: description) }
        try await Task.sleep(for: .milliseconds(10))
    }
}
