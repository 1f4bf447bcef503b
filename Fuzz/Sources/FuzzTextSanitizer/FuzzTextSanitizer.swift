import FuzzSupport
import NIOCore
import SecureChat

// The oracle is written out here from the specification, not taken from `TextSanitizer.isAllowed`, so a
// scalar wrongly allowed there is caught too.

/// Scalars that must never reach a terminal: C0 (TAB included: it becomes a space), DEL, C1 (ESC, CSI, OSC),
/// the bidi embeddings, overrides and isolates, every format character (general category Cf: the invisible ones,
/// LRM/RLM/ALM, the deprecated bidi-shaping controls U+206A–U+206F, interlinear annotation, ...), the line and
/// paragraph separators, and every default-ignorable code point (U+034F, the Hangul fillers, ...) but the
/// variation selectors and the zero-width joiner, which `isMisplaced` checks.
private func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
    if isVariationSelector(scalar) || scalar.value == 0x200D { return false }
    if scalar.properties.generalCategory == .format || scalar.properties.generalCategory == .control
        || scalar.properties.isDefaultIgnorableCodePoint
    {
        return true
    }
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F: return true
    case 0x202A...0x202E, 0x2066...0x2069: return true
    case 0x200B, 0x200C, 0x200E, 0x200F, 0x2060...0x2064: return true
    case 0xFEFF, 0x061C, 0x00AD, 0x180E: return true
    case 0xE0000...0xE007F: return true
    case 0x2028, 0x2029: return true
    default: return false
    }
}

private func isVariationSelector(_ scalar: Unicode.Scalar) -> Bool {
    (0xFE00...0xFE0F).contains(scalar.value) || (0xE0100...0xE01EF).contains(scalar.value)
}

private func isPictographic(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value >= 0xA9 && scalar.properties.isEmoji
}

/// A joiner not between two emoji (an emoji, its U+FE0F or a keycap before it), or a variation selector with no
/// character of its own to select: both would be hidden text.
private func isMisplaced(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
    let scalar = scalars[index]
    let previous = index > 0 ? scalars[index - 1] : nil
    if scalar.value == 0x200D {
        guard let previous, index + 1 < scalars.count else { return true }
        let joins = isPictographic(previous) || previous.value == 0xFE0F || previous.value == 0x20E3
        return !joins || !isPictographic(scalars[index + 1])
    }
    if isVariationSelector(scalar) {
        guard let previous else { return true }
        return isBlank(previous) || isVariationSelector(previous) || previous.value == 0x200D
    }
    return false
}

/// Shows as empty space: what `sanitize` trims from both ends.
private func isBlank(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800: return true
    default: return scalar.properties.isWhitespace
    }
}

private func isMark(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark: return true
    default: return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let output = TextSanitizer.sanitize(ByteBuffer(bytes: bytes))
    let scalars = Array(output.unicodeScalars)

    for (index, scalar) in scalars.enumerated() {
        require(!isForbidden(scalar), "U+\(String(scalar.value, radix: 16)) survived sanitising")
        require(!isMisplaced(scalars, at: index), "a lone U+\(String(scalar.value, radix: 16)) survived sanitising")
    }
    if let first = scalars.first, let last = scalars.last {
        require(!isBlank(first) && !isBlank(last), "blank at an end of \(output.debugDescription)")
    }
    var run = 0
    for scalar in scalars {
        run = isMark(scalar) ? run + 1 : 0
        require(run <= TextSanitizer.maximumCombiningMarks, "\(run) marks stacked in \(output.debugDescription)")
    }
    require(output.utf8.count <= TextSanitizer.maximumExpansion * size, "grew past maximumExpansion")

    // Scalar by scalar, not String ==, which would call canonically equivalent texts equal.
    let again = TextSanitizer.sanitize(output)
    require(
        Array(again.unicodeScalars) == scalars,
        "not idempotent: \(output.debugDescription) → \(again.debugDescription)"
    )
    let viaString = TextSanitizer.sanitize(String(decoding: bytes, as: UTF8.self))
    require(Array(viaString.unicodeScalars) == scalars, "the bytes and String paths differ")
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzTextSanitizer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
