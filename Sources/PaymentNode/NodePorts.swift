import Logging
import NIOCore
import NIOPosix
import ReplicaCore
import ReplicaShell
import ReplicaStore
import ReplicaTransport

// MARK: - The node's implementations of the shell's ports: SQLite, NIO links, wall clock

/// The shell's store in a node: the SQLite store behind the group committer. Commits
/// run on the committer's thread and their completions hop back to the node's event
/// loop; every other read and write goes through `StoreIO`, the node's one policy for
/// where store work runs.
final class SQLiteShellStore: ShellStore, @unchecked Sendable {
    let loop: EventLoop
    let store: ReplicaStore
    let committer: GroupCommitter
    let io: StoreIO
    let logger: Logger
    /// What recovery reads: every record only for an engine that holds them all; of the
    /// log, the newest entries the engine keeps in memory.
    let includeRecords: Bool
    let logTailPerOrigin: Int?
    /// Traced writes handed to the shell whose persist request has not come yet, by
    /// payment, oldest first (empty without `tracing:`). The write may wait behind a
    /// record read, so it is matched by its entry, not by the turn it ran in. Touched
    /// only on `loop`: the box checks it.
    private let commitTraces: NIOLoopBoundBox<[PaymentID: [CommitTrace]]>
    /// The horizon compaction is working towards, and whether a step is under way.
    /// Touched only on `loop`.
    private let compaction: NIOLoopBoundBox<(target: VersionVector?, running: Bool)>
    let region: RegionID

    init(
        loop: EventLoop, store: ReplicaStore, committer: GroupCommitter, io: StoreIO, logger: Logger,
        engine: EngineConfig
    ) {
        self.region = engine.region
        self.includeRecords = engine.recordCacheBytes == nil
        self.logTailPerOrigin = engine.logCacheEntries
        self.loop = loop
        self.commitTraces = .makeBoxSendingValue([:], eventLoop: loop)
        self.compaction = .makeBoxSendingValue((nil, false), eventLoop: loop)
        self.store = store
        self.committer = committer
        self.io = io
        self.logger = logger
    }

    func commit(_ request: PersistRequest, completion: @escaping (StoreOutcome) -> Void) {
        let bound = NIOLoopBound(completion, eventLoop: loop)
        guard !commitTraces.value.isEmpty, let span = takeCommitTrace(for: request)?.span(for: request) else {
            return committer.submit([request]) { [loop] result in
                let outcome = Self.outcome(result)
                loop.execute { bound.value(outcome) }
            }
        }
        committer.submit(
            [request],
            reportingGroupSize: { [loop] result, groupRequests in
                let outcome = Self.outcome(result)
                CommitTrace.end(span, outcome, groupRequests: groupRequests)
                loop.execute { bound.value(outcome) }
            })
    }

    /// A traced write is about to be handed to the shell.
    func expectCommit(_ trace: CommitTrace) { commitTraces.value[trace.paymentID, default: []].append(trace) }

    /// The write was answered (committed, refused, or a replay that wrote nothing).
    func forgetCommit(_ trace: CommitTrace) {
        guard var waiting = commitTraces.value[trace.paymentID] else { return }
        waiting.removeAll { $0 === trace }
        commitTraces.value[trace.paymentID] = waiting.isEmpty ? nil : waiting
    }

    /// The oldest traced write whose local entry `request` carries, taken off the list.
    private func takeCommitTrace(for request: PersistRequest) -> CommitTrace? {
        for encoded in request.entries where encoded.entry.origin == region {
            guard let trace = commitTraces.value[encoded.entry.paymentID]?.first else { continue }
            forgetCommit(trace)
            return trace
        }
        return nil
    }

    /// Compaction runs as bounded steps one after another on the committer's thread
    /// (`ReplicaStore.compactLog(through:)`, `trimEvents()`), so commits go in between them; a
    /// newer horizon asked for meanwhile is taken up by the next step.
    func compactLog(through vector: VersionVector) {
        compaction.value.target = vector
        if !compaction.value.running { compactStep() }
    }

    private func compactStep() {
        guard let target = compaction.value.target else {
            compaction.value.running = false
            return
        }
        compaction.value.running = true
        io.write(
            { store in
                let logLeft = try store.compactLog(through: target)
                let feedLeft = try store.trimEvents()
                return logLeft || feedLeft
            },
            completion: { [self] result in
                switch result {
                case .success(let more):
                    if !more && compaction.value.target == target { compaction.value.target = nil }
                case .failure(let error):
                    // Asked again at the next horizon the engine reaches (or after the next
                    // start: a step the stopping committer refused is no failure to report).
                    compaction.value.target = nil
                    if !(error is GroupCommitter.CommitterStopped) {
                        logger.warning("log compaction failed", metadata: ["error": "\(Self.describe(error))"])
                    }
                }
                compactStep()
            })
    }

    func readPayment(_ id: PaymentID, reply: @escaping (Result<Payment?, StoreReadFailure>) -> Void) {
        io.readForClient({ try $0.payment(id) }, reply: { reply($0.mapError { StoreReadFailure(Self.describe($0)) }) })
    }

    /// Records for the engine's cache: a few (a client write's, a small batch of them) in
    /// place on the loop, more (a peer's batch) on the pool (see `StoreIO`).
    func loadRecords(_ ids: [PaymentID], completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void) {
        guard ids.count <= StoreIO.inPlaceReadsMax else {
            return io.readForEngine({ try $0.encodedRecords(ids) }, completion: completion)
        }
        completion(io.readInPlace { try $0.encodedRecords(ids) })
    }

    func readRecords(
        after: UInt64, limit: MessageBudget, completion: @escaping (Result<StoredRecords, StoreReadFailure>) -> Void
    ) {
        io.readForEngine(
            { reader in
                let (records, position, more) = try reader.encodedRecords(after: after, limit: limit)
                return StoredRecords(records: records, position: position, more: more)
            }, completion: completion)
    }

    func readLogEntries(
        of origin: RegionID, after: UInt64, limit: MessageBudget,
        completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void
    ) {
        io.readForEngine({ try $0.encodedLogEntries(of: origin, after: after, limit: limit) }, completion: completion)
    }

    func readEvents(
        _ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64,
        reply: @escaping (Result<EventPage, EventReadFailure>) -> Void
    ) {
        io.readForClient(
            { try $0.events(query, region: region, ownVisibleThrough: ownVisibleThrough) },
            reply: { result in
                reply(
                    result.mapError { error in
                        if let feed = error as? EventFeedError { return .feed(feed) }
                        return .store(StoreReadFailure(Self.describe(error)))
                    })
            })
    }

    func readHistory(
        _ id: PaymentID, limit: Int, reply: @escaping (Result<PaymentHistory?, HistoryReadFailure>) -> Void
    ) {
        io.readForClient(
            { try $0.history(id, limit: limit) },
            reply: { result in
                reply(
                    result.mapError { error in
                        if let gap = error as? PaymentHistoryError { return .truncated(gap) }
                        return .store(StoreReadFailure(Self.describe(error)))
                    })
            })
    }

    func recover(completion: @escaping (Result<RecoveredState, StoreReadFailure>) -> Void) {
        let (records, tail) = (includeRecords, logTailPerOrigin)
        io.write(
            { try $0.recover(includingRecords: records, logTailPerOrigin: tail) },
            completion: { completion($0.mapError { StoreReadFailure(Self.describe($0)) }) })
    }

    func probeWritable(completion: @escaping (Bool) -> Void) { io.probe(completion: completion) }

    /// For the shell's checks and tests only, never on a request's path.
    func stateDigest() throws -> String { try io.readBlocking { try $0.stateDigest() } }

    /// A failed commit's outcome: SQLite rolls a transaction back on a full disk and on
    /// constraint errors; after an I/O error (a failed fsync) what the file holds is unknown.
    static func outcome(_ result: Result<Void, Error>) -> StoreOutcome {
        switch result {
        case .success: return .committed
        case .failure(let error as SQLiteError) where error.isIOError: return .uncertain(describe(error))
        case .failure(let error): return .rolledBack(describe(error))
        }
    }

    /// A short reason, without SQLite's statement text.
    static func describe(_ error: Error) -> String {
        if let e = error as? SQLiteError { return e.isDiskFull ? "disk full" : "sqlite error \(e.code)" }
        if error is GroupCommitter.CommitterStopped { return "the store is closing" }
        return "\(error)"
    }
}

/// The shell's peer bus in a node: the mutual-TLS transport.
final class TransportPeerBus: ShellPeerBus {
    let transport: PeerTransport
    init(transport: PeerTransport) { self.transport = transport }
    func send(_ message: PeerMessage, to peer: RegionID) { transport.send(message, to: peer) }
    func disconnect(_ peer: RegionID, reason: String) { transport.disconnect(peer, reason: reason) }
    func setLinksEnabled(_ enabled: Bool) { transport.setEnabled(enabled) }
}

/// The shell's clock in a node: the real time, and timers on the node's event loop.
final class EventLoopClock: ShellClock {
    let loop: EventLoop
    init(loop: EventLoop) { self.loop = loop }
    var nowMillis: UInt64 { WallClock.nowMillis() }
    func schedule(afterMillis millis: UInt64, _ body: @escaping () -> Void) {
        let bound = NIOLoopBound(body, eventLoop: loop)
        loop.scheduleTask(in: .milliseconds(Int64(millis))) { bound.value() }
    }
}
