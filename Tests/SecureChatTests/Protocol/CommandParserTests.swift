import SecureChat
import Testing

@Suite("Command parser")
struct CommandParserTests {
    private func parse(_ line: String) -> Result<Command, Command.Problem> {
        Command.parse(line)
    }

    @Test("every command and its aliases")
    func everyCommand() {
        let cases: [(String, Command)] = [
            ("/help", .help), ("/h", .help), ("/?", .help),
            ("/users", .users(all: false)), ("/who", .users(all: false)), ("/users all", .users(all: true)),
            ("/users ALL", .users(all: true)),
            ("/stats", .stats),
            ("/quit", .quit(reason: nil)), ("/exit", .quit(reason: nil)),
            ("/quit gone fishing", .quit(reason: "gone fishing")),
            ("/msg bob hi there", .message(to: "bob", text: "hi there")),
            ("/dm bob hi", .message(to: "bob", text: "hi")), ("/tell bob hi", .message(to: "bob", text: "hi")),
            ("/join #rust", .join(room: "#rust")), ("/join rust", .join(room: "rust")),
            ("/leave", .leave), ("/part", .leave),
            ("/rooms", .rooms), ("/list", .rooms),
            ("/whois bob", .whois(user: "bob")),
            ("/ping", .ping),
            ("/kick bob", .kick(user: "bob", reason: nil)), ("/kick bob spam", .kick(user: "bob", reason: "spam")),
            ("/ban bob", .ban(user: "bob", reason: nil)), ("/ban bob for spam", .ban(user: "bob", reason: "for spam")),
            ("/unban bob", .unban(target: "bob")), ("/unban 10.0.0.1", .unban(target: "10.0.0.1")),
            ("/bans", .bans(page: nil)),
            ("/bans 3", .bans(page: 3)),
        ]
        for (line, command) in cases {
            #expect(parse(line) == .success(command), "\(line)")
        }
    }

    @Test("command names are case-insensitive, arguments keep their case")
    func caseInsensitive() {
        #expect(parse("/HELP") == .success(.help))
        #expect(parse("/Quit Bye Now") == .success(.quit(reason: "Bye Now")))
        #expect(parse("/MSG Bob Hello") == .success(.message(to: "Bob", text: "Hello")))
        #expect(parse("/uSeRs") == .success(.users(all: false)))
    }

    @Test("extra spaces between the name and arguments are skipped; spaces inside the text are kept")
    func spacing() {
        #expect(parse("/msg   bob    hi  there") == .success(.message(to: "bob", text: "hi  there")))
        #expect(parse("/quit    later") == .success(.quit(reason: "later")))
    }

    @Test("usage errors")
    func usage() {
        let cases: [(String, String)] = [
            ("/msg", "/msg <user> <text>"), ("/msg bob", "/msg <user> <text>"), ("/msg bob ", "/msg <user> <text>"),
            ("/users everyone", "/users [all]"),
            ("/join", "/join <#room>"), ("/join a b", "/join <#room>"),
            ("/whois", "/whois <user>"), ("/whois a b", "/whois <user>"),
            ("/kick", "/kick <user> [reason]"), ("/ban", "/ban <user> [reason]"),
            ("/unban", "/unban <user|address>"), ("/unban a b", "/unban <user|address>"),
        ]
        for (line, expected) in cases {
            #expect(parse(line) == .failure(.usage(expected)), "\(line)")
        }
    }

    @Test("an unknown command names itself and /help")
    func unknown() {
        #expect(parse("/frobnicate now") == .failure(.unknown("frobnicate")))
        #expect(Command.Problem.unknown("frobnicate").description.contains("/help"))
        #expect(parse("/") == .failure(.unknown("")))
    }

    @Test("an unknown command's name is cut to 32 characters in the error")
    func unknownLongName() {
        let name = String(repeating: "z", count: 500)
        #expect(parse("/" + name) == .failure(.unknown(String(repeating: "z", count: 32))))
    }
}
