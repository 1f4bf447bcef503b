import Foundation
import SecureChat
import Testing

/// `openssl s_client` and `nc`, the clients DESIGN.md names, driven as processes against a real server.
@Suite("Real clients: openssl s_client and nc against both listeners", .timeLimit(.minutes(2)))
struct RealClientTests {
    static let openssl = ProcessRunner.find("openssl")
    static let nc = ProcessRunner.find("nc")

    /// `s_client` flags that make it verify the server strictly against the test CA and stop on any failure.
    static func sClientArguments(port: Int, _ extra: [String]) -> [String] {
        [
            "s_client", "-quiet", "-connect", "127.0.0.1:\(port)", "-CAfile", TestCertificates.set.caCertificatePath,
            "-verify_return_error",
        ] + extra
    }

    @Test(
        "s_client verifies the server against the generated CA, logs in and chats with nc both ways",
        .enabled(if: openssl != nil && nc != nil, "needs openssl and nc"),
        arguments: [
            // TLS 1.3, checking the DNS name (sent as SNI too).
            ["-servername", "localhost", "-verify_hostname", "localhost"],
            // TLS 1.2 forced by the client, checking the IP address SAN.
            ["-tls1_2", "-verify_ip", "127.0.0.1"],
        ]
    )
    func sClientAndNetcatChat(extra: [String]) async throws {
        let openssl = try #require(Self.openssl)
        let nc = try #require(Self.nc)
        let tls12 = extra.contains("-tls1_2")
        try await withTestServer { server in
            try await withProcess(openssl, Self.sClientArguments(port: server.tlsPort, extra)) { sClient in
                // -quiet still prints the chain it verified, on stderr: both depths verified, then the greeting.
                try await sClient.readUntil("the CA verified") { $0.hasPrefix("depth=1") }
                try await sClient.readUntil("the leaf verified") { $0.hasPrefix("depth=0") }
                let expectedVersion = tls12 ? "TLSv1.2" : "TLSv1.3"
                let encrypted = try await sClient.readUntil("the TLS notice") { $0.hasPrefix("* Your connection is") }
                #expect(encrypted.hasPrefix("* Your connection is encrypted: \(expectedVersion), "))
                if tls12 {
                    // Mozilla intermediate: ECDHE with an AEAD.
                    #expect(
                        encrypted.contains("ECDHE-") && (encrypted.contains("GCM") || encrypted.contains("CHACHA20")))
                }
                try await sClient.readUntil("the prompt") { $0.hasPrefix("* Choose a username") }
                sClient.send("viaopenssl")
                try await sClient.readUntil("the welcome") { $0.hasPrefix("* Welcome, viaopenssl!") }

                try await withProcess(nc, ["127.0.0.1", "\(server.port)"]) { netcat in
                    try await netcat.readUntil("the plaintext warning") {
                        $0.hasPrefix("* Your connection is NOT encrypted")
                    }
                    try await netcat.readUntil("the prompt") { $0.hasPrefix("* Choose a username") }
                    netcat.send("vianc")
                    try await netcat.readUntil("the welcome") { $0.hasPrefix("* Welcome, vianc!") }
                    try await sClient.readUntil("nc's arrival") { $0 == "* vianc joined #lobby" }

                    sClient.send("hello from s_client")
                    try await netcat.readUntil("the TLS user's line") { $0 == "viaopenssl: hello from s_client" }
                    netcat.send("hello from nc")
                    try await sClient.readUntil("the nc user's line") { $0 == "vianc: hello from nc" }
                    netcat.send("/msg viaopenssl a direct one")
                    try await sClient.readUntil("the DM") { $0 == "[dm] vianc: a direct one" }
                    netcat.send("/whois viaopenssl")
                    let whois = try await netcat.readUntil("whois") { $0.hasPrefix("* viaopenssl") }
                    #expect(whois.contains(expectedVersion), "\(whois)")

                    // /quit: the server closes with close_notify and s_client ends by itself, successfully.
                    sClient.send("/quit")
                    let status = try await sClient.waitForExit()
                    let sClientOutput = await sClient.output()
                    #expect(status == 0, "\(sClientOutput)")
                    try await netcat.readUntil("the TLS user leaving") { $0.hasPrefix("* viaopenssl left #lobby") }
                    // nc (netcat-openbsd) stays up while its stdin is open, whatever the server did: end it like
                    // a user at a terminal would, with ^D after the server's goodbye.
                    netcat.send("/quit")
                    try await netcat.readUntil("the goodbye") { $0 == "* Bye!" }
                    try await netcat.closeInput()
                    let ncStatus = try await netcat.waitForExit()
                    let ncOutput = await netcat.output()
                    #expect(ncStatus == 0, "\(ncOutput)")
                }
            }
        }
    }

    @Test(
        "a client offering only TLS 1.1 is refused with a protocol-version alert; the server keeps serving",
        .enabled(if: openssl != nil, "needs openssl")
    )
    func tls11IsRefused() async throws {
        let openssl = try #require(Self.openssl)
        try await withTestServer { server in
            // SECLEVEL=0: OpenSSL 3 would otherwise refuse to even send a TLS 1.1 ClientHello, and the test would
            // prove nothing about the server.
            let arguments = Self.sClientArguments(
                port: server.tlsPort, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-servername", "localhost"]
            )
            try await withProcess(openssl, arguments) { sClient in
                let status = try await sClient.waitForExit()
                let output = try await sClient.readToEnd().joined(separator: "\n")
                #expect(status != 0, "\(output)")
                // The alert came from the server: the ClientHello reached it and was refused there.
                #expect(output.contains("alert protocol version"), "\(output)")
                #expect(!output.contains("Choose a username"), "\(output)")
            }
            try await eventually("the refused handshake to be counted") {
                server.server.counters[.tlsHandshakeFailed] >= 1
            }
            #expect(server.server.counters[.tlsHandshakeCompleted] == 0)
            try await expectServerStillServes(server, tag: "after-tls11")
        }
    }
}
