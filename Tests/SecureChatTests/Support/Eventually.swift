/// Polls `condition` until it holds; throws after `failsafe` (20 s, longer in a sanitized build). For effects the server records asynchronously
/// (a counter bumped after the socket closed, a ban file written, a slot released). Not a timing assertion: the
/// deadline only keeps a broken server from hanging the test. `lastSeen` describes, on timeout, what the
/// condition saw last.
func eventually(
    _ description: String,
    failsafe: Duration = SanitizedBuild.scaled(.seconds(20)),
    _ condition: () async throws -> Bool,
    lastSeen: () -> String = { "" }
) async throws {
    let deadline = ContinuousClock.now + failsafe
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline {
            let seen = lastSeen()
            throw TestTimeout(waitingFor: seen.isEmpty ? description : "\(description) (last seen: \(seen))")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
