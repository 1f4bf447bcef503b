import NIOConcurrencyHelpers
import NIOCore

/// Holds the server's current ``TLSContext`` so certificates can be replaced while running (SIGHUP).
///
/// New connections take ``current``; open connections keep the context they started with (each
/// ``OpenSSLHandler`` holds its own reference), so a reload never disturbs them.
///
/// `@unchecked Sendable`: the only mutable state is the context reference, guarded by `lock`.
public final class TLSContextStore: @unchecked Sendable {
    private let lock = NIOLock()
    private var context: TLSContext
    /// Given to every context built here, so a reload keeps the budget as spent as it was.
    private let handshakeBudget: TLSHandshakeBudget?

    public init(_ context: TLSContext, handshakeBudget: TLSHandshakeBudget? = nil) {
        self.context = context
        self.handshakeBudget = handshakeBudget
    }

    /// Loads the server context from files, for the first time.
    public convenience init(
        certificateChainPath: String,
        privateKeyPath: String,
        clientCAPath: String? = nil,
        anyClientCertificate: Bool = false,
        handshakeBudget: TLSHandshakeBudget? = nil
    ) throws {
        try self.init(
            TLSContext.server(
                certificateChainPath: certificateChainPath,
                privateKeyPath: privateKeyPath,
                clientCAPath: clientCAPath,
                anyClientCertificate: anyClientCertificate,
                handshakeBudget: handshakeBudget
            ),
            handshakeBudget: handshakeBudget
        )
    }

    /// The context for the next connection.
    public var current: TLSContext {
        self.lock.withLock { self.context }
    }

    /// Builds a new context from the files and makes it current. If anything is wrong with them, the
    /// current context stays in place and the ``TLSError`` saying why is thrown, for the caller to log.
    public func reload(
        certificateChainPath: String, privateKeyPath: String, clientCAPath: String? = nil,
        anyClientCertificate: Bool = false
    ) throws {
        // Built outside the lock: loading files and keys is slow, and connections must not wait for it.
        let fresh = try TLSContext.server(
            certificateChainPath: certificateChainPath,
            privateKeyPath: privateKeyPath,
            clientCAPath: clientCAPath,
            anyClientCertificate: anyClientCertificate,
            handshakeBudget: self.handshakeBudget
        )
        self.lock.withLock { self.context = fresh }
    }
}
