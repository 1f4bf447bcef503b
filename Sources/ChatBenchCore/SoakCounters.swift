/// What the soak's misbehaving and churning clients did, summed over all of them. Steady clients are
/// judged apart (``SoakLedger``): these counters only say that the load really happened and that the server
/// treated each kind of abuse the way README promises.
public struct SoakCounters: Sendable, Equatable {
    /// Churn connections completed, by kind (login/chat/quit, abrupt closes and resets, drops before login).
    public var churn: [ChurnKind: Int] = [:]
    /// Room movers: sessions, `/join`s and `/leave`s, and error lines they got (must stay 0).
    public var moverSessions = 0
    public var moves = 0
    public var moverErrors = 0
    /// Flooders: sessions that flooded until disconnected, the disconnects the server announced, bursts a
    /// little over the limit that stayed connected, and the refusals seen.
    public var floods = 0
    public var floodDisconnects = 0
    public var bursts = 0
    public var refusals = 0
    /// Slow readers: sessions, and how many the server evicted while they did not read.
    public var slowReaders = 0
    public var slowEvicted = 0
    /// Slow readers whose stall the end of the run cut short (neither evicted nor failed).
    public var slowCutShort = 0
    /// Garbage on the TLS port (random bytes, an HTTP request) closed by the server.
    public var garbage = 0
    /// Half handshakes on the TLS port (a ClientHello cut short, or nothing at all) closed by the server
    /// (login timeout).
    public var halfHandshakes = 0
    /// TLS on the plaintext port (a ClientHello, a real TLS client) answered in plain words and closed.
    public var tlsOnPlaintext = 0
    /// Anything that did not go as README says it should: how many of each kind (``kind(of:)``), and the
    /// first few in full.
    public var failures = 0
    public var failureKinds: [String: Int] = [:]
    public var failureTexts: [String] = []

    public init() {}

    public mutating func fail(_ text: String) {
        failures += 1
        failureKinds[Self.kind(of: text), default: 0] += 1
        if failureTexts.count < 10 { failureTexts.append(text) }
    }

    /// What a failure text is about: the words before its first colon that are not numbered (`mover 41: ...`
    /// is a `mover` failure, `churn quit tls: ...` a `churn quit tls` one).
    public static func kind(of text: String) -> String {
        let head = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let words = head.split(separator: " ").filter { word in !word.contains { $0.isNumber } }
        return words.isEmpty ? "other" : words.joined(separator: " ")
    }

    /// Churn connections of every kind.
    public var churnTotal: Int { churn.values.reduce(0, +) }

    /// One line for the progress report.
    public var summary: String {
        "churn \(churnTotal), movers \(moverSessions) (\(moves) moves), floods \(floods) (\(floodDisconnects) cut off), "
            + "bursts \(bursts), slow readers \(slowReaders) (\(slowEvicted) evicted), garbage \(garbage), "
            + "half handshakes \(halfHandshakes), TLS on plaintext \(tlsOnPlaintext), failures \(failures)"
    }
}
