import FuzzSupport
import SecureChat

// Usernames and room names from arbitrary text: what is accepted uses only the allowed bytes, keys are the
// look-alike skeleton of what was typed (checked against a skeleton written out here, not `key(for:)` itself),
// a look-alike spelling of a name is the same user, reserved names stay refused in any disguise (the same bytes
// also steer a disguise of a reserved name), and a name parsed again is the same name.

private func isNameByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
        return true
    default:
        return false
    }
}

/// The skeleton, from its specification: ASCII letters folded to lower case, `0` read as `o`, `1`, `i` and `l`
/// (either case) read as `l`, `m` as `rn` and `w` as `vv` (either case); every other byte left as it is.
private func skeleton(_ text: String) -> String {
    let bytes = text.utf8.flatMap { byte -> [UInt8] in
        switch byte {
        case UInt8(ascii: "0"), UInt8(ascii: "o"), UInt8(ascii: "O"): return [UInt8(ascii: "o")]
        case UInt8(ascii: "1"), UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "l"), UInt8(ascii: "L"):
            return [UInt8(ascii: "l")]
        case UInt8(ascii: "m"), UInt8(ascii: "M"): return Array("rn".utf8)
        case UInt8(ascii: "w"), UInt8(ascii: "W"): return Array("vv".utf8)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return [byte | 0x20]
        default: return [byte]
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

private let reservedKeys = Set(Username.reserved.map(skeleton))

/// The documented reserved rule (`Username.reserved`): the name, the name without any digit, `_` or `-`, or the
/// name without `_` and `-` and with any number of digits, `_` and `-` trimmed from either end, has a reserved
/// skeleton.
private func isReservedByRule(_ name: String) -> Bool {
    let isDecoration: (UInt8) -> Bool = {
        $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39)
    }
    let isReservedText: (ArraySlice<UInt8>) -> Bool = {
        !$0.isEmpty && reservedKeys.contains(skeleton(String(decoding: $0, as: UTF8.self)))
    }
    let bytes = Array(name.utf8)
    if isReservedText(bytes[...]) || isReservedText(bytes.filter { !isDecoration($0) }[...]) { return true }
    let body = bytes.filter { $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: "-") }
    let leading = body.prefix(while: isDecoration).count
    let trailing = body.reversed().prefix(while: isDecoration).count
    for start in 0...leading {
        for end in 0...trailing where start + end < body.count {
            if isReservedText(body[start..<(body.count - end)]) { return true }
        }
    }
    return false
}

/// Every spelling that reads the same: the look-alike classes {o, O, 0} and {1, i, I, l, L}, and both cases.
private let lookAlikes: [UInt8: [UInt8]] = {
    var table: [UInt8: [UInt8]] = [:]
    for group in ["oO0", "1iIlL"] {
        let members = Array(group.utf8)
        for member in members { table[member] = members }
    }
    for letter in UInt8(ascii: "a")...UInt8(ascii: "z") where table[letter] == nil {
        table[letter] = [letter, letter - 0x20]
        table[letter - 0x20] = [letter, letter - 0x20]
    }
    return table
}()

/// A look-alike spelling of `text`, each letter or look-alike digit replaced as `dice` says.
private func lookAlike(of text: String, dice: [UInt8]) -> String {
    var bytes = Array(text.utf8)
    for index in bytes.indices {
        guard let options = lookAlikes[bytes[index]], !dice.isEmpty else { continue }
        bytes[index] = options[Int(dice[index % dice.count] &+ UInt8(truncatingIfNeeded: index)) % options.count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A reserved name in disguise, steered by the input: look-alike letters and digits, `_` or `-` inside, digits,
/// `_` and `-` around.
private func disguisedReserved(_ input: [UInt8]) -> String {
    guard let first = input.first else { return "admin" }
    let decoration = Array("0123456789_-".utf8)
    let names = Username.reserved.sorted()
    let name = Array(names[Int(first) % names.count].utf8)
    var dice = input.dropFirst().makeIterator()
    var body: [UInt8] = []
    for letter in name {
        let die = dice.next() ?? 0
        let options = lookAlikes[letter] ?? [letter]
        body.append(options[Int(die) % options.count])
        if die & 0x80 != 0 { body.append(die & 0x40 != 0 ? UInt8(ascii: "_") : UInt8(ascii: "-")) }
    }
    let prefixCount = Int(dice.next() ?? 0) % 4
    let suffixCount = Int(dice.next() ?? 0) % 4
    let prefix = (0..<prefixCount).map { _ in decoration[Int(dice.next() ?? 0) % decoration.count] }
    let suffix = (0..<suffixCount).map { _ in decoration[Int(dice.next() ?? 0) % decoration.count] }
    return String(decoding: prefix + body + suffix, as: UTF8.self)
}

private func checkUsername(_ text: String, dice: [UInt8]) {
    let key = Username.key(for: text)
    require(key == skeleton(text), "key(for: \(text.debugDescription)) is \(key.debugDescription), not the skeleton")
    require(Username.key(for: key) == key, "the skeleton is not a fixed point: \(text.debugDescription)")
    let validBytes = !text.utf8.isEmpty && text.utf8.allSatisfy(isNameByte) && text.utf8.count <= Username.maximumLength
    if validBytes {
        let expected = isReservedByRule(text)
        switch Username.validate(text) {
        case .success: require(!expected, "accepted \(text.debugDescription), reserved by the documented rule")
        case .failure(let problem):
            require(problem == .reserved && expected, "refused \(text.debugDescription): \(problem)")
        }
    }
    let other = lookAlike(of: text, dice: dice)
    require(Username.key(for: other) == key, "look-alikes \(text.debugDescription), \(other.debugDescription) differ")
    guard case .success(let name) = Username.validate(text) else { return }
    if case .success(let same) = Username.validate(other) {
        require(same == name && same.hashValue == name.hashValue, "\(text) and \(other) are different users")
    }
    require(name.display == text, "the display name is not what was typed")
    require(text.utf8.allSatisfy(isNameByte), "accepted a byte outside the set: \(text.debugDescription)")
    require((1...Username.maximumLength).contains(text.utf8.count), "accepted \(text.utf8.count) bytes")
    require(name.key == Username.key(for: name.display), "key differs from key(for: display)")
    require(!reservedKeys.contains(name.key), "accepted a reserved name: \(text)")
    // Any spelling with the same skeleton is the same user.
    if case .success(let lookAlike) = Username.validate(key) {
        require(lookAlike == name, "\(text) and its skeleton \(key) are different users")
    }
}

private func checkRoom(_ text: String) {
    guard let room = RoomName(parsing: text) else { return }
    let body = text.hasPrefix("#") ? text.utf8.dropFirst() : text.utf8[...]
    require(body.allSatisfy(isNameByte), "room accepted a byte outside the set: \(text.debugDescription)")
    let value = room.value.utf8
    require(value.first == UInt8(ascii: "#"), "room name without #")
    require((2...RoomName.maximumLength + 1).contains(value.count), "room name of \(value.count) bytes")
    require(
        value.dropFirst().allSatisfy { isNameByte($0) && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) },
        "room name not folded: \(room.value)"
    )
    require(RoomName(parsing: room.value) == room, "\(room.value) does not parse to itself")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkUsername(text, dice: bytes.reversed())
    checkRoom(text)
    let disguise = disguisedReserved(bytes)
    switch Username.validate(disguise) {
    case .success: fatalError("a reserved name in disguise was accepted: \(disguise)")
    case .failure(let problem):
        require(problem == .reserved || problem == .tooLong, "\(disguise) refused as \(problem), not reserved")
    }
    checkUsername(disguise, dice: bytes)
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzNames_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
