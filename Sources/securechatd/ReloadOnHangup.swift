import Dispatch
import Logging
import SecureChat

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP: one reload, in this order (README.md, "Configuration"): the configuration read again and checked
/// (``ConfigurationReloader``), which applies its reloadable settings, the certificate among them; then the ban
/// file. A configuration that is invalid, or changes a restart-only setting, applies nothing: the running settings,
/// certificate and bans stay. Signals that arrive during a reload are served after it, one at a time.
struct ReloadOnHangup: Sendable {
    let server: ChatServer
    let banFilePath: String?
    let logger: Logger
    let reloader: ConfigurationReloader

    /// Returns the signal source, which the caller keeps for as long as it should work.
    func install() -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let queue = ReloadQueue()
        source.setEventHandler {
            queue.enqueue {
                logger.notice("SIGHUP: reloading the configuration, certificates and bans")
                guard await reloader.reload() else { return }
                guard banFilePath != nil else { return }
                do {
                    // Merged with bans not saved yet; whoever a newly loaded ban matches is disconnected.
                    let brought = try await server.hub.reloadBans()
                    logger.notice("ban file reloaded", metadata: ["new bans": "\(brought)"])
                } catch {
                    logger.error("ban file reload failed; keeping the current bans", metadata: ["error": "\(error)"])
                }
            }
        }
        source.resume()
        return source
    }

    /// Runs each reload after the one before has finished.
    private final class ReloadQueue: @unchecked Sendable {
        // @unchecked Sendable: only touched from the signal source's handler, which a dispatch source never
        // runs concurrently with itself.
        private var last: Task<Void, Never>?

        func enqueue(_ work: @escaping @Sendable () async -> Void) {
            let previous = last
            last = Task {
                await previous?.value
                await work()
            }
        }
    }
}
