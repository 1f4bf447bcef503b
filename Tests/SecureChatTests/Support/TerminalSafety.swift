/// Checks that a line a client received cannot drive its terminal.
enum TerminalSafety {
    /// What is wrong with `line` (the bytes of one received line, without its newline); empty when it is safe.
    ///
    /// `rawBytes` lists bytes that must not appear at all, even inside valid UTF-8: use it only for payloads
    /// whose legitimate characters cannot contain them (ASCII and U+FFFD contain neither 0x1B nor 0x9B).
    static func problems(in line: [UInt8], rawBytes: Set<UInt8> = [0x1B, 0x9B, 0x9D, 0x07]) -> [String] {
        var problems: [String] = []
        for byte in line where rawBytes.contains(byte) {
            problems.append("raw byte 0x\(String(byte, radix: 16))")
        }
        guard let text = String(validating: line, as: UTF8.self) else {
            return problems + ["invalid UTF-8"]
        }
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069:
                problems.append("U+\(String(scalar.value, radix: 16, uppercase: true))")
            default:
                continue
            }
        }
        return problems
    }
}
