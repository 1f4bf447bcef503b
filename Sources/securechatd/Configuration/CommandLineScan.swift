/// What the command line itself says, read before ArgumentParser parses it: which settings it gives (they win
/// over the environment and the file) and where the configuration file is.
struct CommandLineScan: Sendable {
    /// Names of the settings given as flags (`--max-line 4096` or `--max-line=4096`).
    let givenKeys: Set<String>
    /// `--config FILE`.
    let configurationFile: String?
    /// `--help`, `--version` and the like: answered from the flags alone, with no file or environment read.
    let asksForHelp: Bool

    static let helpFlags: Set<String> = ["-h", "--help", "--version", "--experimental-dump-help"]

    init(_ arguments: [String]) {
        var given = Set<String>()
        var file: String?
        var help = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" { break }
            if Self.helpFlags.contains(argument) || argument.hasPrefix("--generate-completion-script") { help = true }
            guard argument.hasPrefix("--") else { continue }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            if name == "config" {
                if body.contains("=") {
                    file = String(body.drop { $0 != "=" }.dropFirst())
                } else if index < arguments.count {
                    file = arguments[index]
                    index += 1
                }
            }
            given.insert(name)
        }
        givenKeys = given
        configurationFile = file
        asksForHelp = help
    }
}
