import NIOCore

/// The part of the chat line protocol every benchmark client speaks the same way: logging in as `name` when
/// the server prompts, and `/ping` barriers that complete at the `* pong`. ``BenchClientHandler`` and
/// ``ScriptedClientHandler`` each own one, so that they agree on when a client counts as logged in and on what
/// a close fails.
///
/// A class, not a struct: its methods write and close, which can call back into the handler that owns it
/// before they return. Everything here runs on the channel's event loop.
final class ClientSession {
    enum State {
        case awaitingPrompt
        case awaitingWelcome
        case loggedIn
        case closed
    }

    let name: String
    private(set) var state = State.awaitingPrompt
    private let loginPromise: EventLoopPromise<Void>
    private var pongs = CircularBuffer<EventLoopPromise<Void>>()

    /// - Parameter loginPromise: succeeded at the welcome line, failed on an error line or a close before it.
    init(name: String, loginPromise: EventLoopPromise<Void>) {
        self.name = name
        self.loginPromise = loginPromise
    }

    /// Completes at the welcome line.
    var loginFuture: EventLoopFuture<Void> { loginPromise.futureResult }

    var isLoggedIn: Bool { state == .loggedIn }

    /// `* Choose a username ...`: answers with the name, the first time only.
    func prompted(context: ChannelHandlerContext?) {
        guard state == .awaitingPrompt, let context else { return }
        state = .awaitingWelcome
        Self.write("\(name)\n", context: context)
    }

    /// `* Welcome, ...`: logged in, if the name was sent.
    func welcomed() {
        guard state == .awaitingWelcome else { return }
        state = .loggedIn
        loginPromise.succeed()
    }

    /// `* pong`: the oldest `/ping` is answered.
    func ponged() {
        pongs.popFirst()?.succeed()
    }

    /// An error line: while waiting for the welcome it refuses the name, so the login fails and the
    /// connection closes. Returns whether it did; at any other time the line is the handler's to judge.
    func refusesLogin(_ text: String, context: ChannelHandlerContext?) -> Bool {
        guard state == .awaitingWelcome else { return false }
        loginPromise.fail(BenchError.loginRefused(name: name, reason: text))
        context?.close(promise: nil)
        return true
    }

    /// Sends `/ping`; the future completes at the `* pong`, i.e. once every line queued for this client
    /// before it has arrived.
    func ping(context: ChannelHandlerContext?) -> EventLoopFuture<Void> {
        guard let context, state == .loggedIn else { return notConnected() }
        let promise = context.eventLoop.makePromise(of: Void.self)
        pongs.append(promise)
        Self.write("/ping\n", context: context)
        return promise.futureResult
    }

    /// The answer to a command that needs a logged-in, still open connection when there is none.
    func notConnected() -> EventLoopFuture<Void> {
        loginPromise.futureResult.eventLoop.makeFailedFuture(BenchError.notConnected(name))
    }

    /// The connection closed: a login still under way fails, and so does every `/ping` still waiting.
    func closed() {
        let wasLoggingIn = state == .awaitingPrompt || state == .awaitingWelcome
        state = .closed
        if wasLoggingIn { loginPromise.fail(BenchError.closedBeforeLogin(name)) }
        while let pong = pongs.popFirst() { pong.fail(BenchError.closedBeforeLogin(name)) }
    }

    private static func write(_ text: String, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }
}
