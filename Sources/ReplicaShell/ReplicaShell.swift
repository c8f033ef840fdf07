import ReplicaCore

/// One region's directive interpreter: owns the pure `ReplicationEngine` and carries out
/// its directives against a store, a peer bus and a clock. The node runs it over SQLite,
/// NIO and the wall clock; paysim runs the very same type over a simulated disk, network
/// and virtual time.
///
/// It keeps what the engine must not: client callbacks waiting for their write to be
/// durable (tickets), reads waiting for a session token, commits in flight, and the
/// store's health (serving, recovering from a failed commit, failed for good, draining).
///
/// Threading: not thread-safe. Every method MUST be called on one executor (the node's
/// event loop, the simulator's thread), and the ports MUST call back on it.
public final class ReplicaShell<Store: ShellStore, Bus: ShellPeerBus, Clock: ShellClock> {
    /// A client's callback.
    public typealias Reply<T> = (Result<T, NodeError>) -> Void

    /// Whether the region takes writes.
    public enum Health: Equatable, Sendable {
        case serving
        /// A commit was rolled back (disk full): writes and peers wait until the store
        /// takes a write again; reads of committed data are served.
        case recovering(String)
        /// A commit's outcome is unknown (fsync failed): only a restart knows what the
        /// store holds. Reads are served.
        case failed(String)
        case draining
        case stopped
    }

    /// The settings; `addPeer` adds to the engine's regions, so an engine rebuilt after a
    /// store failure keeps them.
    public private(set) var config: ShellConfig
    public let store: Store
    public let bus: Bus
    public let clock: Clock
    public var region: RegionID { config.engine.region }
    /// Told of failures, recoveries and session waits (for logs, metrics and the
    /// simulator's probes).
    public var observer: ((ShellEvent) -> Void)?

    public internal(set) var engine: ReplicationEngine
    public internal(set) var health: Health = .serving
    var nextTicket: UInt64 = 1
    var waitingWrites: [WriteTicket: Reply<WriteAck>] = [:]
    var sessionWaiters: [SessionWaiter] = []
    var commitsInFlight = 0
    var whenCommitsDrained: [() -> Void] = []
    var recovery = RecoveryState()
    var started = false
    var historyAnnounced = false
    /// Being retired (`beginRetirement`): an engine rebuilt after a store failure is too.
    var retiring = false
    /// The clock standing last reported to the observer (by name).
    var clockStandingAnnounced = ClockStanding.vouched.name
    /// The engine's count of wire format raises last reported (counts survive a rebuild).
    var wireRaisesAnnounced: UInt64 = 0
    var prefetch = PrefetchState()
    /// Counts engine rebuilds, so a store read's answer meant for an earlier engine is dropped.
    var engineGeneration = 0
    /// The ids the store may hold, when it held few at the start and while the filter is
    /// worth keeping (`StoredIDFilter`).
    var storedIDs: StoredIDFilter?
    /// Change feed followers waiting for a new change.
    var feed = FeedWaiters()

    struct SessionWaiter {
        let token: VersionVector
        let sinceMillis: UInt64
        let deadlineMillis: UInt64
        let reply: Reply<Void>

        /// Milliseconds since the wait began (0 if the wall clock stepped back).
        func waited(_ now: UInt64) -> UInt64 { now > sinceMillis ? now - sinceMillis : 0 }
    }

    /// Resumes from what `store` committed (`recovered`). Call `start()` to begin ticking.
    public init(config: ShellConfig, recovered: RecoveredState, store: Store, bus: Bus, clock: Clock) {
        self.config = config
        self.store = store
        self.bus = bus
        self.clock = clock
        self.engine = ReplicationEngine(config: config.engine, recovered: recovered, nowMillis: clock.nowMillis)
        self.historyAnnounced = recovered.ownHistoryComplete
        startStoredIDFilter(recovered)
        self.wireRaisesAnnounced = engine.counters.wireFormatRaised
    }

    /// Starts the engine's timer.
    public func start() {
        guard !started else { return }
        started = true
        scheduleTick()
    }

    // MARK: - Writes

    /// A client's create or patch, by `actor` (the API key's id, recorded with the change).
    /// `reply` runs once the write is durable at `durability` (or `local` when `remote`
    /// timed out: see `WriteAck.achieved`), or with why not.
    public func submit(
        _ command: PaymentCommand, actor: String? = nil, durability: Durability, reply: @escaping Reply<WriteAck>
    ) {
        if let reason = unavailableReason { return reply(.failure(.unavailable(reason))) }
        accept(.submit(command, actor, durability, reply))
    }

    /// A write whose records the engine holds, run in its turn.
    func runSubmit(
        _ command: PaymentCommand, actor: String?, durability: Durability, reply: @escaping Reply<WriteAck>
    ) {
        if let reason = unavailableReason { return reply(.failure(.unavailable(reason))) }
        let ticket = WriteTicket(nextTicket)
        nextTicket += 1
        let (result, directives) = engine.submit(
            command, actor: actor, ticket: ticket, durability: durability, nowMillis: clock.nowMillis)
        switch result {
        case .rejected(let error): reply(.failure(.rejected(error)))
        case .answered(let ack): reply(.success(ack))
        case .pending: waitingWrites[ticket] = reply
        }
        carryOut(directives)
    }

    /// Why writes are refused now (nil when they are taken).
    public var unavailableReason: String? {
        switch health {
        case .serving: nil
        case .recovering(let why): "the store cannot take writes (\(why)); the region retries by itself"
        case .failed(let why): "the store failed (\(why)); the node must be restarted"
        case .draining, .stopped: "the node is shutting down"
        }
    }

    /// Why this region is not ready for writes (nil when it is): the store's health, a
    /// new or wiped store still getting its own history back from its peers, a clock off
    /// from most of the cluster's, or one whose peers' readings are still to come.
    public var readinessProblem: String? {
        unavailableReason ?? engine.ownHistoryMissing ?? engine.clockProblem(nowMillis: clock.nowMillis)
    }

    /// What a ready region should still say of itself: that it writes on a clock no
    /// majority of the cluster has vouched for (it hears from too few peers).
    public var readinessNote: String? {
        guard readinessProblem == nil, case .unverified(let why) = engine.clockStanding(nowMillis: clock.nowMillis)
        else { return nil }
        return why
    }

    // MARK: - Reads

    /// Answers once this region has committed everything `token` covers, or with
    /// `sessionNotAvailable` after `sessionWaitMillis`.
    public func waitForSession(_ token: VersionVector?, reply: @escaping Reply<Void>) {
        guard let token, !token.sortedEntries.isEmpty, !engine.canServe(sessionToken: token) else {
            return reply(.success(()))
        }
        if health == .stopped { return reply(.failure(.unavailable("the node is shutting down"))) }
        let now = clock.nowMillis
        sessionWaiters.append(
            SessionWaiter(token: token, sinceMillis: now, deadlineMillis: now + config.sessionWaitMillis, reply: reply))
        observer?(.sessionWaitStarted)
    }

    /// The read path of `GET /v1/payments/{id}`: waits for the session, then reads the
    /// committed payment from the store.
    public func readPayment(_ id: PaymentID, sessionToken: VersionVector?, reply: @escaping Reply<Payment?>) {
        waitForSession(sessionToken) { [store] result in
            switch result {
            case .failure(let error): reply(.failure(error))
            case .success:
                store.readPayment(id) { read in
                    // The store's own error text stays inside (it may name files and statements).
                    reply(read.mapError { _ in .unavailable("the store could not be read") })
                }
            }
        }
    }

    /// No commit in flight.
    public var isIdle: Bool { commitsInFlight == 0 }

    /// The replication status now.
    public func status() -> ReplicationStatus { engine.status(nowMillis: clock.nowMillis) }

    // MARK: - Peers (from the bus)

    /// (While not serving, links are disabled at the bus; a late one is left to it.)
    /// Peer events run in the order they come, behind any input still waiting for its
    /// records.
    /// `wire`: the link's wire format as the bus negotiated it (nil: the newest the engine speaks).
    public func peerConnected(_ peer: RegionID, wire: UInt8? = nil) {
        guard health == .serving else { return }
        accept(.peerConnected(peer, wire: wire))
    }

    /// A region joined the cluster (a config reload): the engine takes it as a peer. The
    /// bus learns its address from the host.
    public func addPeer(_ peer: RegionID) {
        guard peer != region, !config.engine.peers.contains(peer) else { return }
        config.engine.peers.append(peer)
        accept(.addPeer(peer))
    }

    /// A region left the cluster (a config reload): the engine stops dialing and waiting
    /// for it and records the retirement. The bus forgets its address on the host's word.
    public func retirePeer(_ peer: RegionID) {
        guard config.engine.peers.contains(peer) else { return }
        config.engine.peers.removeAll { $0 == peer }
        config.engine.retired.append(peer)
        accept(.retirePeer(peer))
    }

    /// This region is being retired: it takes no client writes from now on and keeps
    /// replicating until its peers hold all it wrote (`engine.retirement`).
    public func beginRetirement() {
        retiring = true
        engine.beginRetirement()
    }

    /// Records this region's retirement once it is drained (true), so its store serves no
    /// more; false while a peer still lacks some of its writes.
    @discardableResult
    public func finishRetirement() -> Bool {
        guard health == .serving else { return false }
        let directives = engine.finishRetirement()
        carryOut(directives)
        return !directives.isEmpty
    }

    public func peerDisconnected(_ peer: RegionID) {
        accept(.peerDisconnected(peer))
    }

    public func peerSent(_ message: PeerMessage, from peer: RegionID) {
        guard health == .serving else { return }
        accept(.peerSent(message, peer))
    }

    // MARK: - Timer

    func scheduleTick() {
        clock.schedule(afterMillis: config.engine.tickIntervalMillis) { [weak self] in self?.tick() }
    }

    func tick() {
        switch health {
        case .serving:
            carryOut(engine.tick(nowMillis: clock.nowMillis))
            noteClockStanding()
            noteWireFormat()
        case .recovering:
            tryToRecoverIfDue()
        case .failed:
            break
        case .draining, .stopped:
            return
        }
        expireSessionWaiters()
        expireFeedWaiters()
        scheduleTick()
    }

    /// Tells the observer when the region's clock standing changes kind (it starts or
    /// stops taking writes for its clock, or starts writing on an unverified one).
    func noteClockStanding() {
        let now = clock.nowMillis
        let standing = inPlace { $0.clockStanding(nowMillis: now) }
        guard standing.name != clockStandingAnnounced else { return }
        clockStandingAnnounced = standing.name
        observer?(.clockStandingChanged(standing))
    }

    /// Tells the observer when the cluster's active wire format rises (the gate on the
    /// newest format's features turned on here, or a peer reported it did).
    func noteWireFormat() {
        let raises = engine.counters.wireFormatRaised
        guard raises != wireRaisesAnnounced else { return }
        wireRaisesAnnounced = raises
        observer?(.wireFormatRaised(to: engine.wireActive))
    }

    // MARK: - Directives

    func carryOut(_ directives: [EngineDirective]) {
        for directive in directives {
            switch directive {
            case .persist(let request):
                noteStored(request)
                if FeedWaiters.moves(request, region: region) { feed.movingCommits.insert(request.id) }
                commitsInFlight += 1
                store.commit(request) { [weak self] outcome in self?.committed(request.id, outcome) }
            case .send(let peer, let message):
                bus.send(message, to: peer)
            case .acknowledge(let ticket, let ack):
                waitingWrites.removeValue(forKey: ticket)?(.success(ack))
            case .compactLog(let through):
                store.compactLog(through: through)
            case .disconnect(let peer, let reason):
                bus.disconnect(peer, reason: reason)
            case .readSnapshotChunk(let peer, let read, let after, let limit):
                readForPeer(
                    { store.readRecords(after: after, limit: limit, completion: $0) },
                    answer: {
                        $0.snapshotChunkRead(
                            $1.records, position: $1.position, more: $1.more, for: peer, read: read, nowMillis: $2)
                    })
            case .readLog(let peer, let read, let origin, let after, let limit):
                readForPeer(
                    { store.readLogEntries(of: origin, after: after, limit: limit, completion: $0) },
                    answer: { $0.logEntriesRead($1, for: peer, read: read, nowMillis: $2) })
            }
        }
        feedMayHaveMoved()
        let historyComplete = inPlace { $0.ownHistoryComplete }
        if !historyAnnounced && historyComplete {
            historyAnnounced = true
            observer?(.ownHistoryRecovered(resumingAfter: engine.vector[region]))
        } else if historyAnnounced && !historyComplete {
            historyAnnounced = false  // a peer showed more of the old history: announce again once it is back
        }
    }

    func committed(_ requestID: UInt64, _ outcome: StoreOutcome) {
        commitsInFlight -= 1
        let movesFeed = feed.movingCommits.remove(requestID) != nil
        switch outcome {
        case .committed:
            if health == .serving || health == .draining {
                if movesFeed { feed.version &+= 1 }
                carryOut(engine.didPersist(requestID: requestID, nowMillis: clock.nowMillis))
                serveSessionWaiters()
            }
        case .rolledBack(let reason):
            storeFailed(reason, uncertain: false)
        case .uncertain(let reason):
            storeFailed(reason, uncertain: true)
        }
        if commitsInFlight == 0 {
            let drained = whenCommitsDrained
            whenCommitsDrained = []
            for body in drained { body() }
        }
    }

    // MARK: - Session waiters

    func serveSessionWaiters() {
        guard !sessionWaiters.isEmpty else { return }
        let now = clock.nowMillis
        var still: [SessionWaiter] = []
        for w in sessionWaiters {
            if engine.canServe(sessionToken: w.token) {
                observer?(.sessionWaitEnded(waitedMillis: w.waited(now), served: true))
                w.reply(.success(()))
            } else {
                still.append(w)
            }
        }
        sessionWaiters = still
    }

    func expireSessionWaiters() {
        guard !sessionWaiters.isEmpty else { return }
        let now = clock.nowMillis
        let have = engine.durableVector
        var still: [SessionWaiter] = []
        for w in sessionWaiters {
            if w.deadlineMillis <= now {
                observer?(.sessionWaitEnded(waitedMillis: w.waited(now), served: false))
                w.reply(.failure(.sessionNotAvailable(wanted: w.token, have: have)))
            } else {
                still.append(w)
            }
        }
        sessionWaiters = still
    }

    /// Reads the engine in place. A plain read of a query through `engine` copies the
    /// whole engine first (retaining and then releasing everything it holds): on paths run
    /// for every input, that copy cost more than the query.
    @inline(__always)
    func inPlace<T>(_ read: (inout ReplicationEngine) -> T) -> T { read(&engine) }

    /// Answers every waiting write with `error`, in ticket order.
    func failWaitingWrites(_ error: NodeError) {
        let waiting = waitingWrites
        waitingWrites = [:]
        for ticket in waiting.keys.sorted() { waiting[ticket]!(.failure(error)) }
    }
}
