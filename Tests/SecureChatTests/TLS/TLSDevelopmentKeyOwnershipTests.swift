import Foundation
import Testing

@testable import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

/// Development keys are the server's own secrets: a key file planted by another user, readable by others, or
/// swapped for a link is refused with its path and the reason, never used (issue 24, point 12).
@Suite("Development key files: owner, mode and links are checked on the file that is read")
struct TLSDevelopmentKeyOwnershipTests {
    /// A directory with a CA and no server pair, so `ensure` has to read `ca.key` to issue one.
    private func directoryNeedingTheCA() throws -> (TLSTemporaryDirectory, DevelopmentCertificates.Paths) {
        let directory = try TLSTemporaryDirectory()
        _ = try DevelopmentCertificates.generate(directory: directory.path)
        let paths = DevelopmentCertificates.Paths(directory: directory.path)
        unlink(paths.serverCertificate)
        unlink(paths.serverKey)
        return (directory, paths)
    }

    private func refusal(_ directory: TLSTemporaryDirectory) -> String? {
        do {
            _ = try DevelopmentCertificates.ensure(directory: directory.path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aCAKeyOthersMayReadIsRefusedWithItsPathAndMode() throws {
        let (directory, paths) = try directoryNeedingTheCA()
        #expect(chmod(paths.caKey, 0o644) == 0)
        let message = try #require(refusal(directory), "a world-readable ca.key must not be used")
        #expect(message.contains(paths.caKey), "\(message)")
        #expect(message.contains("mode 644"), "\(message)")
        #expect(!FileSystem.exists(paths.serverKey), "nothing was issued with it")
    }

    @Test func aServerKeyWithAGroupBitIsRefused() throws {
        let directory = try TLSTemporaryDirectory()
        let certificates = try DevelopmentCertificates.generate(directory: directory.path)
        #expect(chmod(certificates.privateKeyPath, 0o640) == 0)
        let message = try #require(refusal(directory))
        #expect(message.contains(certificates.privateKeyPath), "\(message)")
        #expect(message.contains("mode 640"), "\(message)")
    }

    /// Only root can give a file away; elsewhere the owner rule is covered by the same `fstat` check.
    @Test(.enabled(if: geteuid() == 0, "needs root to give a file to another user"))
    func aCAKeyOfAnotherUserIsRefused() throws {
        let (directory, paths) = try directoryNeedingTheCA()
        #expect(chown(paths.caKey, 65534, 65534) == 0)
        let message = try #require(refusal(directory), "a ca.key planted by another user must not be reused")
        #expect(message.contains(paths.caKey), "\(message)")
        #expect(message.contains("belongs to user 65534"), "\(message)")
    }

    @Test func theReadItselfDoesNotFollowALink() throws {
        let directory = try TLSTemporaryDirectory()
        let target = directory.file("elsewhere.key")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("x".utf8)))
        let link = directory.file("link.key")
        #expect(symlink(target, link) == 0)
        #expect(throws: TLSError.self) { try PEMFile.readOwnedPrivateKey(path: link) }
    }
}
