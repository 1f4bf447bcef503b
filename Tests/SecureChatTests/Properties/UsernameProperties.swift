import PropertyBased
import SecureChat
import Testing

/// Properties of `Username`: which names validate, and the look-alike skeleton behind `key`.
@Suite("Username properties")
struct UsernameProperties {
    static let allowed = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
    /// Allowed characters, look-alike-heavy ones again, and a few that are never allowed.
    static let alphabet = allowed + Array("oO0iIlL1__--") + [" ", ".", "@", "é", "\u{0}", "\u{200B}", "İ", "ı"]

    static let name = Gen.element(of: alphabet).map { $0! }.array(of: 0...28).map { String($0) }

    /// A reserved name in disguise: random case, look-alike digits, separators inside, decoration around.
    static let disguisedReserved = zip(
        Gen.element(of: Array(Username.reserved)).map { $0! },
        Gen.int(in: 0...Int.max).array(of: 12),
        Gen.element(of: Array("0123456789_-")).map { $0! }.array(of: 0...3),
        Gen.element(of: Array("0123456789_-")).map { $0! }.array(of: 0...3)
    ).map { reserved, dice, prefix, suffix in
        var body = ""
        for (index, character) in reserved.enumerated() {
            let die = dice[index % dice.count] >> (index % 8)
            switch (character, die % 4) {
            case ("o", 0): body.append("0")
            case ("l", 0), ("i", 0): body.append("1")
            case ("l", 1): body.append("I")
            case ("i", 1): body.append("l")
            case (_, 2): body.append(contentsOf: character.uppercased())
            default: body.append(character)
            }
            if die % 7 == 6 { body.append(die % 2 == 0 ? "_" : "-") }
        }
        return String(prefix) + body + String(suffix)
    }

    /// The documented rule (`Username.reserved`): the name, the name without any digit, `_` or `-`, or the name
    /// without `_` and `-` and with any number of digits, `_` and `-` removed from either end, has a reserved
    /// skeleton.
    static func isReserved(_ name: String) -> Bool {
        let isDecoration: (Character) -> Bool = { "0123456789_-".contains($0) }
        let reservedKeys = Set(Username.reserved.map { Username.key(for: $0) })
        var candidates = [name, name.filter { !isDecoration($0) }]
        let stripped = name.filter { $0 != "_" && $0 != "-" }
        var front = Substring(stripped)
        while !front.isEmpty {
            var both = front
            while !both.isEmpty {
                candidates.append(String(both))
                guard let last = both.last, isDecoration(last) else { break }
                both.removeLast()
            }
            guard let first = front.first, isDecoration(first) else { break }
            front.removeFirst()
        }
        return candidates.contains { !$0.isEmpty && reservedKeys.contains(Username.key(for: $0)) }
    }

    static func check(_ text: String) {
        let isAllowedText = text.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains(Character($0)) }
        let expected: Username.Problem? =
            text.isEmpty
            ? .empty
            : !isAllowedText ? .invalidCharacters : text.utf8.count > Username.maximumLength ? .tooLong : nil
        switch Username.validate(text) {
        case .success(let username):
            #expect(expected == nil && !isReserved(text), "accepted \(text.debugDescription)")
            #expect(username.display == text)
            #expect(username.key == Username.key(for: username.display))
        case .failure(let problem):
            if let expected {
                #expect(problem == expected, "\(text.debugDescription)")
            } else {
                #expect(problem == .reserved && isReserved(text), "refused \(text.debugDescription): \(problem)")
            }
        }
    }

    @Test("validation accepts exactly 1-24 of [A-Za-z0-9_-] that are not reserved; key is the skeleton")
    func validation() async {
        await propertyCheck(count: 300, input: Self.name) { text in
            Self.check(text)
        }
    }

    @Test("reserved names stay refused in any disguise")
    func reservedInDisguise() async {
        await propertyCheck(count: 200, input: Self.disguisedReserved) { text in
            Self.check(text)
            guard case .failure(let problem) = Username.validate(text) else {
                Issue.record("\(text.debugDescription) was accepted")
                return
            }
            #expect(problem == .reserved || problem == .tooLong)
        }
    }

    @Test("the skeleton is idempotent, for any text")
    func skeletonIsIdempotent() async {
        await propertyCheck(count: 300, input: Self.name) { text in
            let key = Username.key(for: text)
            #expect(Username.key(for: key) == key)
        }
    }

    @Test("look-alikes (case, 0/o, 1/i/l) share a key")
    func lookAlikesShareAKey() async {
        let swaps: [Character: [Character]] = [
            "o": ["o", "O", "0"], "O": ["o", "O", "0"], "0": ["o", "O", "0"],
            "1": ["1", "i", "I", "l", "L"], "i": ["1", "i", "I", "l", "L"], "I": ["1", "i", "I", "l", "L"],
            "l": ["1", "i", "I", "l", "L"], "L": ["1", "i", "I", "l", "L"],
        ]
        await propertyCheck(count: 300, input: Self.name, Gen.int(in: 0...Int.max).array(of: 1...8)) { text, dice in
            var lookAlike = ""
            for (index, character) in text.enumerated() {
                let die = dice[index % dice.count] >> (index % 16)
                if let options = swaps[character] {
                    lookAlike.append(options[die % options.count])
                } else if character.isASCII, character.isLetter, die % 2 == 0 {
                    let flipped = character.isUppercase ? character.lowercased() : character.uppercased()
                    lookAlike.append(contentsOf: flipped)
                } else {
                    lookAlike.append(character)
                }
            }
            #expect(Username.key(for: lookAlike) == Username.key(for: text), "\(lookAlike) vs \(text)")
            if case .success(let original) = Username.validate(text),
                case .success(let other) = Username.validate(lookAlike)
            {
                #expect(original == other)
            }
        }
    }
}
