import ArgumentParser
import Foundation
import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

/// `--check-config`: everything `securechatd` checks before it binds, and the certificates loaded, without binding,
/// creating files or logging. Prints every setting and its origin; exits 0 if valid, 64 if not.
struct ConfigurationCheck {
    let command: SecureChatDaemon
    let origins: [String: String]

    func run() throws -> Never {
        for line in ConfigurationReport.lines(for: command, origins: origins) { print(line) }
        do {
            try validate()
        } catch {
            fflush(nil)
            let line = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            FileHandle.standardError.write(Data("Error: \(line)\n".utf8))
            Glibc.exit(ExitCode.validationFailure.rawValue)
        }
        print("The configuration is valid.")
        fflush(nil)
        Glibc.exit(0)
    }

    /// What `serve` checks, in its order; the certificate comes from `--cert`/`--key`, else from development
    /// certificates that exist already (creating them is left to the start).
    private func validate() throws {
        var configuration = Configuration()
        command.hub.apply(to: &configuration)
        command.limits.apply(to: &configuration)
        command.budgets.apply(to: &configuration)
        command.operations.apply(to: &configuration)
        let listeners = command.listeners
        configuration.host = listeners.host
        configuration.plaintextPort = listeners.port
        configuration.tlsPort = listeners.noTLS ? nil : listeners.tlsPort
        configuration.clientCAPath = listeners.clientCA
        configuration.anyClientCertificate = listeners.clientCertificates == "any"
        listeners.applyWeb(to: &configuration)
        try command.cluster.apply(to: &configuration)
        try configuration.validate()
        if let banFile = configuration.banFilePath, FileManager.default.fileExists(atPath: banFile),
            !FileManager.default.isReadableFile(atPath: banFile)
        {
            throw ValidationError("--ban-file \(banFile) cannot be read")
        }
        if let accountFile = configuration.accountFilePath {
            do {
                _ = try AccountFile.load(path: accountFile)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        guard !listeners.noTLS else { return }
        var certificate = listeners.cert
        var key = listeners.key
        if certificate == nil {
            let directory = URL(fileURLWithPath: listeners.certsDirectory)
            let developmentCertificate = directory.appendingPathComponent("server.crt").path
            let developmentKey = directory.appendingPathComponent("server.key").path
            if FileManager.default.fileExists(atPath: developmentCertificate) {
                certificate = developmentCertificate
                key = developmentKey
            }
        }
        if let certificate, let key {
            _ = try TLSContext.server(
                certificateChainPath: certificate, privateKeyPath: key, clientCAPath: listeners.clientCA,
                anyClientCertificate: listeners.clientCertificates == "any")
        }
    }
}
