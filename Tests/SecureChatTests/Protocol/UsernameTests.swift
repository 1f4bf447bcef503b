import SecureChat
import Testing

@Suite("Username")
struct UsernameTests {
    @Test(
        "letters, digits, _ and - are accepted and shown as typed",
        arguments: ["a", "Alice", "bob_42", "x-y", "Z9", "-_-", "0"]
    )
    func valid(name: String) throws {
        let username = try Username.validate(name).get()
        #expect(username.display == name)
        #expect(username.key == Username.key(for: name))
    }

    @Test("24 characters are accepted, 25 are too long")
    func length() {
        #expect((try? Username.validate(String(repeating: "a", count: 24)).get()) != nil)
        #expect(Username.validate(String(repeating: "a", count: 25)) == .failure(.tooLong))
    }

    @Test("empty is refused")
    func empty() {
        #expect(Username.validate("") == .failure(.empty))
    }

    @Test(
        "spaces, colons, controls, escapes and non-ASCII are refused",
        arguments: [
            "al ice", "alice:", ":", "a\u{1B}[31m", "a\tb", "a/b", "a.b", "a@b", "ålice", "a\u{202E}b", "[dm]", "*",
            "!x", "a\u{0}",
        ]
    )
    func invalidCharacters(name: String) {
        #expect(Username.validate(name) == .failure(.invalidCharacters))
    }

    @Test(
        "reserved names are refused in any case",
        arguments: ["server", "Admin", "OPERATOR", "root", "SysOp", "dm", "SecureChat"]
    )
    func reserved(name: String) {
        #expect(Username.validate(name) == .failure(.reserved))
    }

    @Test("names compare and hash ignoring case")
    func caseInsensitiveEquality() throws {
        let lower = try Username.validate("alice").get()
        let mixed = try Username.validate("ALiCe").get()
        #expect(lower == mixed)
        #expect(Set([lower, mixed]).count == 1)
        #expect(mixed.display == "ALiCe")
    }

    @Test("a long name with bad characters is refused (either reason), never accepted")
    func longAndInvalid() {
        let result = Username.validate(String(repeating: "a b", count: 20))
        #expect((try? result.get()) == nil)
    }
}
