/// The cost of one argon2id hash. Bounded on both sides: a hash read from the account file is only ever
/// computed within these bounds, so a hand-edited file cannot make one log-in take a gigabyte or an hour.
public struct PasswordHashParameters: Sendable, Equatable, CustomStringConvertible {
    /// Memory in KiB (argon2's `m`).
    public var memoryKiB: UInt32
    /// Passes over the memory (argon2's `t`).
    public var passes: UInt32
    /// Lanes (argon2's `p`).
    public var lanes: UInt32

    public init(memoryKiB: UInt32, passes: UInt32, lanes: UInt32) {
        self.memoryKiB = memoryKiB
        self.passes = passes
        self.lanes = lanes
    }

    /// OWASP's password storage cheat sheet, first argon2id row: 19 MiB, 2 passes, 1 lane.
    public static let owasp = PasswordHashParameters(memoryKiB: 19 * 1024, passes: 2, lanes: 1)

    /// The most memory one hash may take: 256 MiB.
    static let maximumMemoryKiB: UInt32 = 256 * 1024
    static let maximumPasses: UInt32 = 16
    static let maximumLanes: UInt32 = 16

    /// Whether argon2 accepts these (at least 8 KiB per lane, a pass, a lane) and they are within the bounds.
    public var isUsable: Bool {
        (1...Self.maximumLanes).contains(lanes) && (1...Self.maximumPasses).contains(passes)
            && memoryKiB <= Self.maximumMemoryKiB && memoryKiB >= 8 * lanes
    }

    public var description: String { "m=\(memoryKiB),t=\(passes),p=\(lanes)" }
}
