/// The server's side of what a session needs (``SessionServices``): every member but `sessionSettings` is a
/// field of the context already.
extension ServerContext: SessionServices {
    /// The rules every session starts with.
    var sessionSettings: SessionSettings {
        SessionSettings(
            maximumLineBytes: configuration.maximumLineBytes, throttle: LineThrottle(following: liveThrottle),
            tlsPort: tlsPort, accounts: accounts != nil, clustered: cluster != nil
        )
    }
}
