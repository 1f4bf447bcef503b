/// A value from a file or the environment as an error shows it: quoted, at most 64 characters, with control
/// characters replaced (the file's bytes must not drive the operator's terminal), or `<redacted>` for a secret.
enum ShownValue {
    static func quoted(_ text: String, secret: Bool) -> String {
        guard !secret else { return "<redacted>" }
        var shown = String(
            text.unicodeScalars.prefix(64).map { scalar -> Character in
                scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
                    ? "?" : Character(scalar)
            })
        if text.unicodeScalars.count > 64 { shown += "..." }
        return "\"\(shown)\""
    }
}
