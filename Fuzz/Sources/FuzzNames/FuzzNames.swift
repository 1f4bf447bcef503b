import FuzzSupport
import SecureChat

// Usernames and room names from arbitrary text: what is accepted uses only the allowed bytes, keys are the
// look-alike skeleton of what was typed, and a name parsed again is the same name.

private func isNameByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
        return true
    default:
        return false
    }
}

private let reservedKeys = Set(Username.reserved.map { Username.key(for: $0) })

private func checkUsername(_ text: String) {
    let key = Username.key(for: text)
    require(Username.key(for: key) == key, "the skeleton is not a fixed point: \(text.debugDescription)")
    guard case .success(let name) = Username.validate(text) else { return }
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
    checkUsername(text)
    checkRoom(text)
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzNames_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
