/// "did you mean max-line?" for a misspelt key: the closest known name within two edits.
enum KeySuggestion {
    static func closest(to word: String, among names: [String]) -> String? {
        let candidates = names.map { (name: $0, distance: distance(word, $0)) }
        guard let best = candidates.min(by: { $0.distance < $1.distance }), best.distance <= 2 else { return nil }
        return best.name
    }

    /// " (did you mean max-line?)", or nothing.
    static func hint(for word: String, among names: [String]) -> String {
        closest(to: word, among: names).map { " (did you mean \($0)?)" } ?? ""
    }

    /// Levenshtein distance; both words are short (an unknown key is cut to 64 characters before this).
    private static func distance(_ first: String, _ second: String) -> Int {
        let a = Array(first.prefix(64))
        let b = Array(second.prefix(64))
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
