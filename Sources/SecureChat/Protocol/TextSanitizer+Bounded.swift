extension TextSanitizer {
    /// The most of a text from outside (a file anyone may have written, a decoder's message quoting it) that an
    /// error or a log line shows.
    static let maximumShownLength = 300

    /// `text` sanitised and cut to `maximumShownLength` characters, with "..." when cut: fit for a log line, an
    /// error message or a terminal. The ban and account files show what they read this way.
    static func bounded(_ text: String) -> String {
        let clean = sanitize(text)
        guard clean.count > maximumShownLength else { return clean }
        return String(clean.prefix(maximumShownLength)) + "..."
    }
}
