import Configuration
import Synchronization

/// swift-configuration's getters answer `nil` (or the default) for a value that does not convert; this access
/// reporter keeps each access's event, so the loader can tell "not given" from "given but wrong", and which
/// provider gave a value.
final class ValueAccessRecorder: AccessReporter {
    private let events = Mutex<[String: AccessEvent]>([:])

    func report(_ event: AccessEvent) {
        let name = event.metadata.key.components.last ?? ""
        events.withLock { $0[name] = event }
    }

    /// What the last access to `name` found.
    func outcome(for name: String) -> Outcome {
        guard let event = events.withLock({ $0[name] }) else { return .absent }
        for result in event.providerResults {
            switch result.result {
            case .failure: return .unconvertible(provider: result.providerName)
            case .success(let lookup) where lookup.value != nil:
                return event.conversionError == nil
                    ? .found(provider: result.providerName) : .unconvertible(provider: result.providerName)
            case .success: continue
            }
        }
        return .absent
    }

    enum Outcome: Equatable {
        case absent
        case found(provider: String)
        case unconvertible(provider: String)
    }
}
