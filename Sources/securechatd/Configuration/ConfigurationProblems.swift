/// Everything wrong with a configuration, one line each (a file's name and line, or a variable's name, first).
/// A configuration with any problem never starts the server, and never replaces a running configuration.
struct ConfigurationProblems: Error, CustomStringConvertible {
    let lines: [String]

    init(_ lines: [String]) {
        self.lines = lines
    }

    var description: String { lines.joined(separator: "\n") }
}
