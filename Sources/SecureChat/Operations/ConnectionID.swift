/// A unique id per accepted connection, for logs and for the hub's bookkeeping.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: UInt64

    public init(_ value: UInt64) {
        self.value = value
    }

    public var description: String { String(value) }

    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.value < rhs.value }
}
