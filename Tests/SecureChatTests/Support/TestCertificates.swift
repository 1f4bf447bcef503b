import Foundation
import SecureChat

/// Certificates made once per test process by the project's own generator: a CA, a server certificate for
/// localhost / 127.0.0.1 / ::1, and client certificates for "alice" and "bob".
enum TestCertificates {
    static let directory: String = {
        var template = Array((NSTemporaryDirectory() + "securechat-tests-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
        return String(cString: made)
    }()

    static let set: DevelopmentCertificateSet = {
        do {
            return try DevelopmentCertificates.generate(directory: directory, clientCertificateNames: ["alice", "bob"])
        } catch {
            fatalError("cannot generate test certificates: \(error)")
        }
    }()

    static func client(_ name: String) -> DevelopmentClientCertificate {
        guard let certificate = set.clientCertificates.first(where: { $0.name == name }) else {
            fatalError("no test client certificate named \(name)")
        }
        return certificate
    }
}
