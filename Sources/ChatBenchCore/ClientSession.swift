import NIOCore

/// The part of the protocol every benchmark client speaks the same way: logging in as `name` (when the
/// server prompts; with IRC, registering and joining the lobby), and barriers (`/ping` or IRC `PING`) that
/// complete at their answer. ``BenchClientHandler`` and ``ScriptedClientHandler`` each own one, so that they
/// agree on when a client counts as logged in and on what a close fails. Only ``BenchClientHandler`` speaks
/// IRC (``dialect``); the scripted clients of `churn` and `soak` speak the line protocol.
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
    /// The protocol spoken; set before the connection is active.
    var dialect = BenchProtocol.line
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

    /// The connection is up (and on TLS, its handshake under way: the handler below holds writes until it is
    /// done). IRC registers now; the line protocol waits for the prompt.
    func connected(context: ChannelHandlerContext) {
        guard state == .awaitingPrompt, let greeting = dialect.greeting(name: name) else { return }
        state = .awaitingWelcome
        Self.write(greeting, context: context)
    }

    /// `* Choose a username ...`: answers with the name, the first time only.
    func prompted(context: ChannelHandlerContext?) {
        guard state == .awaitingPrompt, let context else { return }
        state = .awaitingWelcome
        Self.write(dialect.nameLine(name), context: context)
    }

    /// IRC `001`: registered; the login completes once the client is in the lobby (``welcomed()`` at `366`).
    func registered(context: ChannelHandlerContext?) {
        guard state == .awaitingWelcome, let context else { return }
        Self.write(dialect.lobbyJoin, context: context)
    }

    /// IRC `PING :token`: answered at once, at any time (a server drops a client that does not).
    func serverPinged(token: UnsafeRawBufferPointer, context: ChannelHandlerContext?) {
        guard let context else { return }
        Self.write(dialect.pong(token: token), context: context)
    }

    /// `* Welcome, ...`: logged in, if the name was sent.
    func welcomed() {
        guard state == .awaitingWelcome else { return }
        state = .loggedIn
        loginPromise.succeed()
    }

    /// `* pong` or IRC `PONG`: the oldest barrier is answered.
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

    /// Sends a barrier (`/ping`, IRC `PING`); the future completes at its answer, i.e. once every line queued
    /// for this client before it has arrived.
    func ping(context: ChannelHandlerContext?) -> EventLoopFuture<Void> {
        guard let context, state == .loggedIn else { return notConnected() }
        let promise = context.eventLoop.makePromise(of: Void.self)
        pongs.append(promise)
        Self.write(dialect.barrier, context: context)
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
