/// Fired by ``OpenSSLHandler`` as a user inbound event when the TLS handshake has completed, before any
/// decrypted data is passed on. Also available afterwards as ``OpenSSLHandler/handshakeInfo``.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// The negotiated protocol, as OpenSSL names it: `"TLSv1.3"` or `"TLSv1.2"`.
    public let protocolVersion: String
    /// The negotiated cipher suite, as OpenSSL names it, e.g. `"TLS_AES_256_GCM_SHA384"`.
    public let cipher: String
    /// SHA-256 of the peer's leaf certificate (DER), lowercase hex without colons; `nil` unless the peer
    /// presented a certificate and it verified. On a server this is the client certificate, so it is
    /// the identity to compare with configured operator fingerprints.
    public let peerCertificateFingerprint: String?
    /// Whether an earlier session was resumed (abbreviated handshake).
    public let sessionReused: Bool
    /// The protocol agreed by ALPN (`http/1.1` for a browser), or nil when none was.
    public let applicationProtocol: String?

    public init(
        protocolVersion: String, cipher: String, peerCertificateFingerprint: String?, sessionReused: Bool,
        applicationProtocol: String? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.cipher = cipher
        self.peerCertificateFingerprint = peerCertificateFingerprint
        self.sessionReused = sessionReused
        self.applicationProtocol = applicationProtocol
    }
}

/// Fired by ``OpenSSLHandler`` as a user inbound event when the peer ends the TLS session cleanly with
/// close_notify (as opposed to simply dropping the connection), just before the channel closes.
public struct TLSCloseNotifyReceived: Sendable, Hashable {
    public init() {}
}

/// Fired by ``OpenSSLHandler`` as a user inbound event when the connection ends after the handshake without
/// the peer's close_notify, just before `channelInactive` (swift-nio-ssl reports the same as
/// `NIOSSLError.uncleanShutdown`). Whoever is on the path can cut a TCP stream at any byte: data that arrived
/// before this event is authentic, but it may end anywhere, so a message it leaves unfinished must be
/// dropped, not taken as complete. A clean end is announced with ``TLSCloseNotifyReceived`` and then
/// `ChannelEvent.inputClosed` instead.
public struct TLSUncleanShutdown: Sendable, Hashable {
    public init() {}
}
