/// Reads a fuzz input front to back. Running out yields zeros and empty arrays, so every input is a valid
/// program and libFuzzer's mutations never waste executions on a "too short" reject.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        self.bytes = Array(UnsafeBufferPointer(start: data, count: size))
    }

    public var isAtEnd: Bool { position >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// Up to `count` bytes (fewer at the end of the input).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(0, count))
        defer { position = end }
        return Array(bytes[min(position, end)..<end])
    }

    public mutating func rest() -> [UInt8] {
        bytes(bytes.count - position)
    }
}

/// Splits bytes into chunks whose sizes come from a seed, so one input also chooses how the network cut it.
public enum Chunker {
    /// Chunks of 1 to `1 + seed % 97` bytes, sizes drawn from a SplitMix64 stream seeded with `seed`.
    public static func split(_ bytes: [UInt8], seed: UInt64) -> [ArraySlice<UInt8>] {
        var state = seed
        let largest = 1 + Int(seed % 97)
        var chunks: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let size = 1 + Int(next(&state) % UInt64(largest))
            let end = min(bytes.count, start + size)
            chunks.append(bytes[start..<end])
            start = end
        }
        return chunks
    }

    private static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// `precondition` with a message that survives `-O`: release builds drop precondition messages, and a finding
/// without its message costs a debugging session.
public func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
