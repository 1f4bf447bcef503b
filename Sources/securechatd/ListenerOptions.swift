import ArgumentParser
import Logging
import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

/// Where to listen, and the TLS certificate.
struct ListenerOptions: ParsableArguments {
    @Option(name: .long, help: "Address to listen on (default: all interfaces, IPv4 and IPv6).")
    var host: String = "::"

    @Option(name: .long, help: "Plaintext port.")
    var port: Int = 9000

    @Option(name: .customLong("tls-port"), help: "TLS port.")
    var tlsPort: Int = 9443

    @Flag(name: .customLong("no-tls"), help: "Run without the TLS listener.")
    var noTLS = false

    @Option(name: .long, help: "PEM certificate chain for TLS (default: certs/server.crt, created if missing).")
    var cert: String?

    @Option(name: .long, help: "PEM private key for TLS (default: certs/server.key, created if missing).")
    var key: String?

    @Option(name: .customLong("client-ca"), help: "Ask TLS clients for a certificate and verify it against this CA.")
    var clientCA: String?

    @Option(
        name: .customLong("client-certs"),
        help: "any: ask every TLS client for a certificate and accept any, self-signed too (for certificate log-in)."
    )
    var clientCertificates: String?

    @Flag(
        name: .customLong("no-web"),
        help: "Serve no web page and no WebSocket: every connection speaks the line protocol."
    )
    var noWeb = false

    @Option(
        name: .customLong("web-origin"),
        help:
            "An origin whose pages may open a WebSocket here, such as https://chat.example.org (repeatable; default: the server's own)."
    )
    var webOrigins: [String] = []

    @Option(
        name: .customLong("certs-dir"), help: "Where development certificates are kept when --cert/--key are not given."
    )
    var certsDirectory: String = "certs"

    func validate() throws {
        if let clientCertificates, clientCertificates != "any" {
            throw ValidationError("--client-certs takes one value, any (--client-ca verifies against a CA instead)")
        }
        try OptionBounds.port.check(port, flag: "port")
        try OptionBounds.port.check(tlsPort, flag: "tls-port")
        // Before any certificate is made or port bound (Configuration.validate says it again, with --metrics-port).
        guard noTLS || port == 0 || port != tlsPort else {
            throw ValidationError(
                "--port \(port) and --tls-port \(tlsPort) are the same port; give each listener its own")
        }
        guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
        for origin in webOrigins where !Self.isOrigin(origin) {
            throw ValidationError(
                "--web-origin \(origin) is not an origin: a scheme, a host and maybe a port, such as https://chat.example.org"
            )
        }
    }

    /// `http://` or `https://`, a host (a bracketed IPv6 address too) and an optional port; no path, no slash.
    static func isOrigin(_ text: String) -> Bool {
        let lowered = text.lowercased()
        guard let rest = ["https://", "http://"].first(where: lowered.hasPrefix).map({ lowered.dropFirst($0.count) })
        else { return false }
        return !rest.isEmpty && !rest.contains("/") && !rest.contains("?") && !rest.contains("#") && !rest.contains("@")
            && !rest.contains(" ")
    }

    /// The web settings, for the start and for `--check`.
    func applyWeb(to configuration: inout Configuration) {
        configuration.web.enabled = !noWeb
        configuration.web.allowedOrigins = webOrigins
    }

    /// `announce`: print the development CA and the line to connect with when the development certificates are used
    /// (at start; not again on a reload).
    func apply(to configuration: inout Configuration, logger: Logger, announce: Bool = true) throws {
        configuration.host = host
        configuration.plaintextPort = port
        configuration.tlsPort = noTLS ? nil : tlsPort
        configuration.clientCAPath = clientCA
        configuration.anyClientCertificate = clientCertificates == "any"
        applyWeb(to: &configuration)
        guard !noTLS else { return }
        if let cert, let key {
            configuration.certificatePath = cert
            configuration.privateKeyPath = key
            return
        }
        let development = try DevelopmentCertificates.ensure(directory: certsDirectory)
        configuration.certificatePath = development.certificatePath
        configuration.privateKeyPath = development.privateKeyPath
        guard announce else { return }
        if development.created {
            logger.notice("created development certificates", metadata: ["directory": "\(certsDirectory)"])
        }
        let ca = development.caCertificatePath
        let fingerprint = development.caFingerprintSHA256 ?? "unknown"
        print(
            """
            Development TLS certificate for localhost, 127.0.0.1 and ::1, signed by the development CA:
              CA certificate: \(ca)
              CA SHA-256:     \(fingerprint)
            Connect with:
              openssl s_client -quiet -connect localhost:\(tlsPort) -CAfile \(ca)
            """)
        fflush(nil)  // stdout may be a pipe (systemd, tests): show the lines now
    }
}

/// History, rooms, operators and bans.
struct HubOptions: ParsableArguments {
    @Option(name: .long, help: "Lines of history kept per room and replayed to newcomers.")
    var history: Int = 50

    @Option(name: .customLong("max-rooms"), help: "Most rooms that may exist at once.")
    var maxRooms: Int = 1000

    @Option(name: .customLong("ban-file"), help: "JSON file that keeps bans across restarts.")
    var banFile: String?

    @Option(
        name: .customLong("account-file"),
        help: "JSON file of registered names and their password hashes (turns accounts on; one node only)."
    )
    var accountFile: String?

    @Option(
        name: .customLong("operator-account"),
        help: "An account whose owner is an operator once logged in (repeatable; needs --account-file or --cluster)."
    )
    var operatorAccounts: [String] = []

    @Option(
        name: .customLong("operator-fingerprint"),
        help:
            "SHA-256 of a TLS client certificate whose holder is an operator (repeatable; turns off the first-user rule)."
    )
    var operatorFingerprints: [String] = []

    @Option(
        name: .customLong("announce-limit"), help: "Rooms with more members than this do not announce joins and leaves."
    )
    var announceLimit: Int = 500

    func validate() throws {
        try OptionBounds.zeroOrMore.check(announceLimit, flag: "announce-limit")
        try OptionBounds.zeroOrMore.check(history, flag: "history")
        try OptionBounds.oneOrMore.check(maxRooms, flag: "max-rooms")
        for name in operatorAccounts {
            guard case .success = Username.validate(name) else {
                throw ValidationError("--operator-account \(name) is not a valid username")
            }
        }
        for fingerprint in operatorFingerprints {
            let hex = fingerprint.lowercased().filter { $0 != ":" }
            guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                throw ValidationError("--operator-fingerprint takes a SHA-256 in hex (64 digits, colons allowed)")
            }
        }
    }

    func apply(to configuration: inout Configuration) {
        configuration.historyLines = history
        configuration.maximumRooms = maxRooms
        configuration.banFilePath = banFile
        configuration.accountFilePath = accountFile
        configuration.operatorAccounts = operatorAccounts
        configuration.operatorFingerprints = operatorFingerprints
        configuration.announceLimit = announceLimit
    }
}
