import Foundation
import PropertyBased
import Testing

@testable import SecureChat

/// Properties of the PHC strings the account file holds: what is written parses back to itself, and what a file
/// may hold instead (any text, and near misses of a real hash) never traps and never yields a hash outside the
/// bounds.
@Suite("PasswordHash properties")
struct PasswordHashProperties {
    static let bytes = Gen.uint8(in: 0...255).array(of: 0...80)
    static let phcAlphabet = Array("$argon2idv=19mtp,0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/=")
    static let phcLike = Gen.element(of: phcAlphabet).map { $0! }.array(of: 0...120).map { String($0) }
    static let real = "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"

    @Test("a hash built from in-bounds parts is written and parsed back unchanged")
    func roundTrip() async {
        await propertyCheck(count: 300, input: Self.bytes, Self.bytes) { salt, digest in
            let parameters = PasswordHashParameters(memoryKiB: 64, passes: 1, lanes: 1)
            guard let hash = PasswordHash(parameters: parameters, salt: salt, digest: digest) else {
                #expect(
                    !PasswordHash.saltLengths.contains(salt.count) || !PasswordHash.digestLengths.contains(digest.count)
                )
                return
            }
            #expect(PasswordHash(phc: hash.phc) == hash)
        }
    }

    @Test("any text, and any one-character change of a real hash, parses to nothing or to a hash within bounds")
    func anythingElse() async {
        await propertyCheck(count: 500, input: Self.phcLike) { text in
            if let hash = PasswordHash(phc: text) { #expect(hash.parameters.isUsable, "\(text)") }
        }
        await propertyCheck(
            count: 500, input: Gen.int(in: 0...(Self.real.count - 1)), Gen.element(of: Self.phcAlphabet)
        ) { index, replacement in
            var characters = Array(Self.real)
            characters[index] = replacement!
            let text = String(characters)
            if let hash = PasswordHash(phc: text) {
                #expect(hash.parameters.isUsable && hash.phc == text, "\(text)")
            }
        }
    }
}

/// The account file is read from disk, where anyone who can write there may have put anything: whatever it holds,
/// loading it returns accounts that pass every rule or throws, naming the file; it never traps.
@Suite("AccountFile properties")
struct AccountFileProperties {
    static let pieces = [
        "{", "}", "[", "]", ",", ":", "\"version\"", "1", "2", "\"accounts\"", "\"held\"", "\"name\"", "\"key\"",
        "\"hash\"", "\"certificates\"", "\"created\"", "\"until\"", "\"alice\"", "\"allce\"", "null", "-1",
        "9223372036854775807", "1e999", "\"\(PasswordHashProperties.real)\"",
        "\"\(String(repeating: "ab", count: 32))\"",
        "\"\\u0000\"", " ",
    ]
    static let jsonish = Gen.element(of: pieces).map { $0! }.array(of: 0...60).map { $0.joined() }

    @Test("any JSON-ish file loads into valid accounts or is refused with its path")
    func anyFile() async throws {
        let directory = BanFileTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/accounts.json"
        await propertyCheck(count: 400, input: Self.jsonish) { text in
            try? text.write(toFile: path, atomically: false, encoding: .utf8)
            do {
                let list = try AccountFile.load(path: path)
                for account in list.accounts { #expect(AccountFile.problem(with: account) == nil, "\(text)") }
            } catch let error as AccountFile.LoadError {
                #expect(error.path == path)
            } catch {
                Issue.record("unexpected error \(error) for \(text)")
            }
        }
    }
}
