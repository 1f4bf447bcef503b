import NIOCore

/// The link's life as one state machine, in the style of postgres-nio's `ListenStateMachine`: each event the
/// listener, the heartbeat and the watchdog report returns the one thing the link must do about it, so every
/// transition is tested without a database. Times come in as arguments; the machine never reads a clock.
///
/// - `connecting`: before the node has joined (registered and caught up).
/// - `live`: chat flows. The listener is caught up, and the last heartbeat succeeded.
/// - `paused`: the listener is gone or deaf, or a heartbeat failed. Users were told once; chat is refused
///   until both the listener has caught up again and a heartbeat has succeeded.
/// - `out`: a full node timeout without a successful heartbeat. The others may have declared this node down,
///   so nothing queued is committed until a heartbeat proves this incarnation is still registered.
/// - `rejoining`: the node found it was declared down: its users are closed and it registers anew.
/// - `stopping`: shutting down. Nothing brings the link back, and nothing registers the node again.
struct ClusterLinkState: Sendable {
    enum Phase: Sendable, Equatable {
        case connecting
        case live
        case paused
        case out
        case rejoining
        /// `wasLive`: lines queued before the stop may still be committed (the node leaves cleanly).
        case stopping(wasLive: Bool)
    }

    /// What the link must do after an event.
    enum Action: Sendable, Equatable {
        case none
        /// Tell every user here, once, that chat is paused; refuse the lines waiting for a batch.
        case pause
        /// Tell every user that chat resumed; wake the publisher and the work queue.
        case resume
        /// A full node timeout without a heartbeat: give up whatever was waiting to be claimed or relayed.
        case goOut
        /// The listener has not heard this node's own probe in time: close its connection, so it reconnects.
        case restartListener
        /// Declared down by the others: close every user here and register under a new incarnation.
        case rejoin
    }

    let nodeTimeout: TimeAmount
    /// Longest wait for a probe, from the heartbeat that sent it to the listener hearing it.
    let probeGrace: TimeAmount

    private(set) var phase: Phase = .connecting
    /// The listener is connected, listening, and has caught up since it connected.
    private(set) var listenerReady = false
    /// When the listener's current connection started listening (nil while it has none).
    private(set) var listeningSince: NIODeadline?
    /// The last heartbeat failed (or none has succeeded since the link paused for that reason).
    private(set) var beatFailing = false
    /// The last successful heartbeat.
    private(set) var lastBeat: NIODeadline?
    /// The first of the heartbeats that have succeeded without a break since (nil after a failure).
    private(set) var beatingSince: NIODeadline?
    /// The newest probe the listener has heard (probes are numbered from 1, and heard in order).
    private(set) var lastProbeHeard: UInt64 = 0
    /// The oldest probe the listener has not heard yet, and when its heartbeat started.
    private(set) var unheardProbe: (sequence: UInt64, sentAt: NIODeadline)?

    init(nodeTimeout: TimeAmount, probeGrace: TimeAmount) {
        self.nodeTimeout = nodeTimeout
        self.probeGrace = probeGrace
    }

    /// Chat, logins and relays are accepted only while live.
    var isLive: Bool { phase == .live }

    /// Back from an outage: while the link catches up, what the tables say of this node is put right.
    var isRecovering: Bool { phase == .paused || phase == .out || phase == .rejoining }

    /// Whether queued room lines may be committed: while live, and while stopping after being live.
    var mayCommit: Bool { phase == .live || phase == .stopping(wasLive: true) }

    /// A node may declare others down only after its own heartbeats have succeeded without a break for a full
    /// node timeout: after a stall of the database every node's heartbeat is old, and all need time to beat.
    func mayDeclareOthersDown(at now: NIODeadline) -> Bool {
        guard phase == .live, let beatingSince else { return false }
        return now - beatingSince >= nodeTimeout
    }

    // MARK: - Events

    /// Start-up registered the node and caught up: chat may flow (the listener reports in when it is ready).
    mutating func joined(at now: NIODeadline) -> Action {
        guard phase == .connecting else { return .none }
        phase = .live
        lastBeat = now
        beatingSince = now
        beatFailing = false
        return .none
    }

    /// The listener's connection is up and listening; probes count from here.
    mutating func listenerConnected(at now: NIODeadline) -> Action {
        listeningSince = now
        unheardProbe = nil
        return .none
    }

    /// The listener caught up from the tables after connecting.
    mutating func listenerCaughtUp() -> Action {
        listenerReady = true
        return resumeIfRecovered()
    }

    /// The listener's connection failed, ended, or could not be opened.
    mutating func listenerLost() -> Action {
        listenerReady = false
        listeningSince = nil
        unheardProbe = nil
        return pauseIfLive()
    }

    /// A heartbeat that started at `sentAt` and sent probe `probe` succeeded at `now`: this incarnation is
    /// still registered. The listener may have heard the probe already (it can overtake this report).
    mutating func heartbeatSucceeded(at now: NIODeadline, probe: UInt64 = 0, sentAt: NIODeadline? = nil) -> Action {
        lastBeat = now
        if beatingSince == nil { beatingSince = now }
        beatFailing = false
        if listeningSince != nil, probe > lastProbeHeard, unheardProbe == nil {
            unheardProbe = (probe, sentAt ?? now)
        }
        switch phase {
        case .out:
            // Still registered: no longer out, but chat waits for the listener too.
            phase = .paused
            return resumeIfRecovered()
        case .paused:
            return resumeIfRecovered()
        case .connecting, .live, .rejoining, .stopping:
            return .none
        }
    }

    /// A heartbeat failed or timed out at `now`: the link is down, and after a full node timeout of failures
    /// the node is out.
    mutating func heartbeatFailed(at now: NIODeadline) -> Action {
        beatFailing = true
        beatingSince = nil
        switch phase {
        case .live:
            phase = .paused
            return .pause
        case .paused:
            return outIfSilent(at: now)
        case .connecting, .out, .rejoining, .stopping:
            return .none
        }
    }

    /// The listener heard this node's probe `probe` (and so every earlier one).
    mutating func probeHeard(_ probe: UInt64) -> Action {
        lastProbeHeard = max(lastProbeHeard, probe)
        if let unheard = unheardProbe, probe >= unheard.sequence { unheardProbe = nil }
        return .none
    }

    /// Checked often (a few times per heartbeat interval): a listener that has not heard a probe in time is
    /// deaf, and a node silent for a full node timeout is out, even while its heartbeats hang.
    mutating func tick(at now: NIODeadline) -> Action {
        if let unheard = unheardProbe, now - unheard.sentAt >= probeGrace, phase != .stopping(wasLive: true),
            phase != .stopping(wasLive: false)
        {
            unheardProbe = nil
            return .restartListener
        }
        if phase == .paused { return outIfSilent(at: now) }
        return .none
    }

    /// The database says this incarnation was declared down.
    mutating func declaredDown() -> Action {
        switch phase {
        case .connecting, .live, .paused, .out:
            phase = .rejoining
            beatingSince = nil
            return .rejoin
        case .rejoining, .stopping:
            return .none
        }
    }

    /// Registered anew and caught up after being declared down.
    mutating func rejoined(at now: NIODeadline) -> Action {
        guard phase == .rejoining else { return .none }
        lastBeat = now
        beatingSince = now
        beatFailing = false
        phase = .paused
        return resumeIfRecovered()
    }

    /// Registering anew failed; the next heartbeat finds the new incarnation unregistered and tries again.
    mutating func rejoinFailed() -> Action {
        guard phase == .rejoining else { return .none }
        beatFailing = true
        phase = .paused
        return .none
    }

    /// The node is shutting down.
    mutating func stop() -> Action {
        if case .stopping = phase { return .none }
        phase = .stopping(wasLive: phase == .live)
        return .none
    }

    // MARK: - Helpers

    private mutating func pauseIfLive() -> Action {
        guard phase == .live else { return .none }
        phase = .paused
        return .pause
    }

    private mutating func resumeIfRecovered() -> Action {
        guard phase == .paused, listenerReady, !beatFailing else { return .none }
        phase = .live
        return .resume
    }

    private mutating func outIfSilent(at now: NIODeadline) -> Action {
        guard let lastBeat, now - lastBeat >= nodeTimeout else { return .none }
        phase = .out
        return .goOut
    }
}
