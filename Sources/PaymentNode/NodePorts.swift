import Logging
import NIOCore
import NIOPosix
import ReplicaCore
import ReplicaShell
import ReplicaStore
import ReplicaTransport

// MARK: - The node's implementations of the shell's ports: SQLite, NIO links, wall clock

/// The shell's store in a node: the SQLite store behind the group committer. Commits,
/// probes and recovery run on the committer's thread; their completions hop back to
/// the node's event loop. Payment reads use a reader connection of their own.
final class SQLiteShellStore: ShellStore, @unchecked Sendable {
    let loop: EventLoop
    let store: ReplicaStore
    let committer: GroupCommitter
    let readers: StoreReaderPool
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
    let region: RegionID

    init(
        loop: EventLoop, store: ReplicaStore, committer: GroupCommitter, readers: StoreReaderPool, logger: Logger,
        engine: EngineConfig
    ) {
        self.region = engine.region
        self.includeRecords = engine.recordCacheBytes == nil
        self.logTailPerOrigin = engine.logCacheEntries
        self.loop = loop
        self.commitTraces = .makeBoxSendingValue([:], eventLoop: loop)
        self.store = store
        self.committer = committer
        self.readers = readers
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

    func compactLog(through vector: VersionVector) {
        committer.perform(
            { store in
                try store.compactLog(through: vector)
                try store.trimEvents()
            },
            done: { [logger] result in
                if case .failure(let error) = result {
                    logger.warning("log compaction failed", metadata: ["error": "\(SQLiteShellStore.describe(error))"])
                }
            })
    }

    /// On a thread of the pool, not the node's loop: reads run beside each other and
    /// beside the engine.
    func readPayment(_ id: PaymentID, reply: @escaping (Result<Payment?, StoreReadFailure>) -> Void) {
        let answer = ClientReply(reply)
        NIOThreadPool.singleton.submit { [self] (_: NIOThreadPool.WorkItemState) in answer.body(paymentNow(id)) }
    }

    /// Records for the engine's cache. A few point reads (a client write's, a small batch
    /// of them) run in place on the loop: tens of microseconds, cheaper than two thread
    /// hops. More (a peer's batch) are read on a pool thread and the answer hops back.
    func loadRecords(_ ids: [PaymentID], completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void) {
        guard ids.count <= Self.inPlaceReadsMax else { return readOnPool(completion) { try $0.encodedRecords(ids) } }
        do { completion(.success(try readers.read { try $0.encodedRecords(ids) })) } catch {
            completion(.failure(StoreReadFailure(Self.describe(error))))
        }
    }

    static let inPlaceReadsMax = 32

    func readRecords(after: UInt64, limit: Int, completion: @escaping (Result<StoredRecords, StoreReadFailure>) -> Void)
    {
        readOnPool(completion) { reader in
            let (records, position) = try reader.encodedRecords(after: after, limit: limit)
            return StoredRecords(records: records, position: position)
        }
    }

    func readLogEntries(
        of origin: RegionID, after: UInt64, limit: Int,
        completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void
    ) {
        readOnPool(completion) { try $0.encodedLogEntries(of: origin, after: after, limit: limit) }
    }

    private func readOnPool<T: Sendable>(
        _ completion: @escaping (Result<T, StoreReadFailure>) -> Void,
        _ body: @escaping @Sendable (StoreReader) throws -> T
    ) {
        let bound = NIOLoopBound(completion, eventLoop: loop)
        NIOThreadPool.singleton.submit { [readers, loop] (_: NIOThreadPool.WorkItemState) in
            let answer: Result<T, StoreReadFailure>
            do { answer = .success(try readers.read(body)) } catch {
                answer = .failure(StoreReadFailure(Self.describe(error)))
            }
            loop.execute { bound.value(answer) }
        }
    }

    /// The committed payment, read on the calling thread.
    func paymentNow(_ id: PaymentID) -> Result<Payment?, StoreReadFailure> {
        do { return .success(try readers.read { try $0.payment(id) }) } catch {
            return .failure(StoreReadFailure(Self.describe(error)))
        }
    }

    /// A client's reply carried to a pool thread: it only completes the client's promise.
    private struct ClientReply<T>: @unchecked Sendable {
        let body: (T) -> Void
        init(_ body: @escaping (T) -> Void) { self.body = body }
    }

    /// On a thread of the pool, like `readPayment`.
    func readEvents(
        _ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64,
        reply: @escaping (Result<EventPage, EventReadFailure>) -> Void
    ) {
        let answer = ClientReply(reply)
        NIOThreadPool.singleton.submit { [readers] (_: NIOThreadPool.WorkItemState) in
            let page: Result<EventPage, EventReadFailure>
            do {
                page = .success(
                    try readers.read { try $0.events(query, region: region, ownVisibleThrough: ownVisibleThrough) })
            } catch let error as EventFeedError {
                page = .failure(.feed(error))
            } catch {
                page = .failure(.store(StoreReadFailure(Self.describe(error))))
            }
            answer.body(page)
        }
    }

    /// On a thread of the pool, like `readPayment`.
    func readHistory(
        _ id: PaymentID, limit: Int, reply: @escaping (Result<PaymentHistory?, HistoryReadFailure>) -> Void
    ) {
        let answer = ClientReply(reply)
        NIOThreadPool.singleton.submit { [readers] (_: NIOThreadPool.WorkItemState) in
            let history: Result<PaymentHistory?, HistoryReadFailure>
            do {
                history = .success(try readers.read { try $0.history(id, limit: limit) })
            } catch let error as PaymentHistoryError {
                history = .failure(.truncated(error))
            } catch {
                history = .failure(.store(StoreReadFailure(Self.describe(error))))
            }
            answer.body(history)
        }
    }

    func recover(completion: @escaping (Result<RecoveredState, StoreReadFailure>) -> Void) {
        let bound = NIOLoopBound(completion, eventLoop: loop)
        let box = RecoveredBox()
        let (records, tail) = (includeRecords, logTailPerOrigin)
        committer.perform(
            { store in box.state = try store.recover(includingRecords: records, logTailPerOrigin: tail) },
            done: { [loop] result in
                let answer: Result<RecoveredState, StoreReadFailure> =
                    switch result {
                    case .success: .success(box.state!)
                    case .failure(let error): .failure(StoreReadFailure(Self.describe(error)))
                    }
                loop.execute { bound.value(answer) }
            })
    }

    func probeWritable(completion: @escaping (Bool) -> Void) {
        let bound = NIOLoopBound(completion, eventLoop: loop)
        committer.probe { [loop] result in
            let ok = if case .success = result { true } else { false }
            loop.execute { bound.value(ok) }
        }
    }

    func stateDigest() throws -> String { try readers.read { try $0.stateDigest() } }

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

    /// Carries a recovered state from the committer's thread to the loop.
    private final class RecoveredBox: @unchecked Sendable { var state: RecoveredState? }
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
