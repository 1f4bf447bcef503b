import FuzzSupport
import NIOCore
import SecureChat

// The input is the text after the `/`, as typed (raw UTF-8, possibly invalid) and as the server sees it after
// sanitising. Parsing must not crash, its results must be well formed, and a parsed command written back in
// its canonical form must parse to the same command. Then the command runs against a hub (CommandAgainstHub).

/// The canonical text of a command: the inverse of `Command.parse` for everything it accepts.
private func render(_ command: Command) -> String {
    switch command {
    case .help: return "/help"
    case .users(let all): return all ? "/users all" : "/users"
    case .stats: return "/stats"
    case .quit(let reason): return reason.map { "/quit \($0)" } ?? "/quit"
    case .message(let user, let text): return "/msg \(user) \(text)"
    case .join(let room): return "/join \(room)"
    case .leave: return "/leave"
    case .rooms: return "/rooms"
    case .whois(let user): return "/whois \(user)"
    case .ping: return "/ping"
    case .kick(let user, let reason): return reason.map { "/kick \(user) \($0)" } ?? "/kick \(user)"
    case .ban(let user, let reason): return reason.map { "/ban \(user) \($0)" } ?? "/ban \(user)"
    case .unban(let target): return "/unban \(target)"
    case .bans(let page): return page.map { "/bans \($0)" } ?? "/bans"
    case .ignore(let user): return user.map { "/ignore \($0)" } ?? "/ignore"
    case .unignore(let user): return "/unignore \(user)"
    case .account(let command): return render(command)
    }
}

private func render(_ command: Command.AccountCommand) -> String {
    switch command {
    case .register(let password): return "/register \(password)"
    case .registerCertificate: return "/register cert"
    case .changePassword(let old, let new):
        // The old password in quotes when it could not be read as one word.
        let quoted = old.isEmpty || old.contains(" ") || old.hasPrefix("\"")
        return quoted ? "/password \"\(old)\" \(new)" : "/password \(old) \(new)"
    case .addCertificate: return "/cert add"
    case .listCertificates: return "/cert list"
    case .deleteCertificate(let fingerprint): return "/cert del \(fingerprint)"
    case .unregister(let password): return "/unregister \(password)"
    case .drop(let name): return "/account drop \(name)"
    case .reset(let name): return "/account reset \(name)"
    }
}

/// A word argument: what `parse` cut at a space. Never empty, never holds a space.
private func checkWord(_ word: String, _ line: String) {
    require(!word.isEmpty && !word.contains(" "), "bad argument \(word.debugDescription) from \(line.debugDescription)")
}

private func check(_ line: String) {
    // The server's own test (SessionStateMachine): "/" followed by a combining mark is one Character, not a
    // slash, and that line is chat text, never parsed.
    guard line.hasPrefix("/") else { return }
    switch Command.parse(line) {
    case .failure(let problem):
        if case .unknown(let name) = problem {
            require(name.count <= 32, "unknown-command name not capped: \(name.count)")
        }
        _ = problem.description
    case .success(let command):
        switch command {
        case .message(let user, let text):
            checkWord(user, line)
            require(!text.isEmpty, "empty message from \(line.debugDescription)")
        case .join(let word), .whois(let word), .unban(let word), .kick(let word, _), .ban(let word, _):
            checkWord(word, line)
        case .bans(let page):
            require(page.map { $0 >= 1 } ?? true, "page \(String(describing: page))")
        case .quit(let reason):
            require(reason.map { !$0.isEmpty } ?? true, "empty quit reason")
        default:
            break
        }
        let again = Command.parse(render(command))
        require(
            again == .success(command),
            "\(line.debugDescription) → \(command) → \(render(command).debugDescription) → \(again)"
        )
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    check("/" + String(decoding: bytes, as: UTF8.self))
    let sanitized = "/" + TextSanitizer.sanitize(ByteBuffer(bytes: bytes))
    check(sanitized)
    // What the server would really receive: sanitised text, run against a hub by an operator and by a user.
    CommandAgainstHub.run(sanitized)
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzCommand_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
