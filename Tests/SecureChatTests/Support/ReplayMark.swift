/// Replayed history lines start with `[HH:MM:SS] `.
enum ReplayMark {
    /// The line without its `[HH:MM:SS] ` mark, or nil when it has none (a live line).
    static func strip(_ line: String) -> String? {
        guard let match = line.wholeMatch(of: /\[([0-2][0-9]):([0-5][0-9]):([0-5][0-9])\] (.*)/) else { return nil }
        guard let hour = Int(match.1), hour < 24 else { return nil }
        return String(match.4)
    }
}
