/// Failures of a benchmark run.
public enum BenchError: Error, CustomStringConvertible, Equatable {
    case closedBeforeLogin(String)
    case closedWhileSending(String)
    case loginRefused(name: String, reason: String)
    case notConnected(String)
    case timedOut(String)
    case invalidOption(String)

    public var description: String {
        switch self {
        case .closedBeforeLogin(let name): "\(name): connection closed before login completed"
        case .closedWhileSending(let name): "\(name): connection closed while sending"
        case .loginRefused(let name, let reason): "\(name): login refused: \(reason)"
        case .notConnected(let name): "\(name): not logged in"
        case .timedOut(let what): "timed out: \(what)"
        case .invalidOption(let what): what
        }
    }
}
