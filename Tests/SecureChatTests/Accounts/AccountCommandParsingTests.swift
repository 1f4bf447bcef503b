import Testing

@testable import SecureChat

@Suite("Accounts: parsing the account commands")
struct AccountCommandParsingTests {
    @Test(
        "commands parse; passwords keep their spaces",
        arguments: [
            (
                "/register correct horse battery staple",
                Command.AccountCommand.register(password: "correct horse battery staple")
            ),
            ("/REGISTER cert", .registerCertificate),
            ("/password old new one", .changePassword(old: "old", new: "new one")),
            ("/password \"old with spaces\" new one", .changePassword(old: "old with spaces", new: "new one")),
            ("/cert add", .addCertificate),
            ("/cert list", .listCertificates),
            ("/cert del AB:CD", .deleteCertificate(fingerprint: "AB:CD")),
            ("/unregister my old password", .unregister(password: "my old password")),
            ("/account drop alice", .drop(name: "alice")),
            ("/account reset alice", .reset(name: "alice")),
        ])
    func parses(_ line: String, _ expected: Command.AccountCommand) {
        #expect(Command.parse(line) == .success(.account(expected)))
    }

    @Test(
        "malformed ones get their usage, which never repeats what was typed",
        arguments: [
            "/register", "/password onlyone", "/password \"unclosed quote", "/cert", "/cert del", "/unregister",
            "/account", "/account drop", "/account reset two words",
        ])
    func usage(_ line: String) {
        guard case .failure(let problem) = Command.parse(line) else {
            Issue.record("parsed")
            return
        }
        #expect(problem.description.hasPrefix("usage: "))
        #expect(!problem.description.contains("onlyone") && !problem.description.contains("unclosed"))
    }
}
