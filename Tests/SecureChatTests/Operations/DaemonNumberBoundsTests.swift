import Foundation
import Testing

/// Numbers on securechatd's command line are bounded before anything converts them: a value in seconds becomes
/// nanoseconds, and an unchecked `--login-timeout 9223372036854775807` trapped at start instead of being refused.
@Suite("securechatd: numeric options out of range are usage errors")
struct DaemonNumberBoundsTests {
    @Test(
        "a timeout past a year is refused with the flag's name and exit status 64",
        arguments: ["login-timeout", "write-timeout", "idle-timeout", "flood-window", "shutdown-grace"]
    )
    func hugeSecondsAreRefused(flag: String) async throws {
        let arguments = [
            "--host", "127.0.0.1", "--port", "0", "--no-tls", "--\(flag)", "9223372036854775807",
        ]
        try await withProcess(DaemonProcess.executable, arguments, collecting: .standardError) { process in
            let status = try await process.waitForExit(timeout: .seconds(30))
            let output = try await process.readToEnd().joined(separator: "\n")
            #expect(status == 64, "\(output)")
            #expect(output.contains("--\(flag) must be"), "\(output)")
            #expect(output.contains("9223372036854775807"), "\(output)")
        }
    }
}
