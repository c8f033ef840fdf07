import Foundation
import Logging
import NIOCore
import NIOPosix
import ReplicaCore
import ReplicaStore
import ReplicaTransport
import ServiceLifecycle

/// One region's node: owns the `ReplicationEngine` on a single event loop and carries out
/// its directives against the SQLite store (group commit) and the peer transport, with
/// the real clock. Every input (client write, peer message, commit, tick) is one task on
/// that loop, so the engine sees them one at a time, in order.
///
/// Reads go to the store (only committed data is ever served) through a reader pool.
public final class ReplicaNode: @unchecked Sendable {
    public let config: NodeConfig
    public let transport: PeerTransport
    let logger: Logger
    let loop: EventLoop
    let store: ReplicaStore
    let committer: GroupCommitter
    let readers: StoreReaderPool

    // Owned by `loop`.
    private var engine: ReplicationEngine
    private var nextTicket: UInt64 = 1
    private var waitingWrites: [WriteTicket: EventLoopPromise<WriteAck>] = [:]
    private var sessionWaiters: [SessionWaiter] = []
    private var failure: String?
    private var stopping = false
    private var ticker: RepeatedTask?
    private var commitsInFlight = 0
    private var commitsDrained: [EventLoopPromise<Void>] = []

    private struct SessionWaiter {
        let token: VersionVector
        let deadlineMillis: UInt64
        let promise: EventLoopPromise<Void>
    }

    /// Opens (or creates) the region's store and resumes the engine from it. Nothing
    /// listens yet: call `start()`.
    public init(config: NodeConfig, group: EventLoopGroup, logger: Logger) throws {
        self.config = config
        self.logger = logger
        self.loop = group.next()
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        store = try ReplicaStore(options: StoreOptions(path: config.databasePath))
        let recovered = try store.recover()
        engine = ReplicationEngine(config: config.engine, recovered: recovered)
        committer = GroupCommitter(store: store)
        readers = StoreReaderPool(store: store)
        let tls = try PeerTLS(files: config.tls)
        transport = PeerTransport(config: config.transport, tls: tls, group: group, logger: logger)
        logger.info("store opened", metadata: [
            "store.path": "\(config.databasePath)", "store.records": "\(recovered.records.count)",
            "store.vector": "\(recovered.vector)",
        ])
    }

    /// Starts the peer transport and the engine's timer.
    public func start() async throws {
        try await transport.start(delegate: self)
        let interval = TimeAmount.milliseconds(Int64(config.engine.tickIntervalMillis))
        ticker = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            guard failure == nil, !stopping else { return }
            carryOut(engine.tick(nowMillis: WallClock.nowMillis()))
            expireSessionWaiters()
        }
    }

    /// Stops in order: no new writes, peers closed, every commit in flight finished, the
    /// committer stopped. Acknowledged writes are on disk before this returns.
    public func shutdown() async {
        try? await loop.submit { [self] in
            stopping = true
            ticker?.cancel()
        }.get()
        await transport.shutdown()
        let drained: EventLoopFuture<Void> = loop.flatSubmit { [self] in
            if commitsInFlight == 0 { return loop.makeSucceededVoidFuture() }
            let p = loop.makePromise(of: Void.self)
            commitsDrained.append(p)
            return p.futureResult
        }
        try? await drained.get()
        committer.shutdown()
        try? await loop.submit { [self] in
            for (_, p) in waitingWrites { p.fail(NodeError.unavailable("the node is shutting down")) }
            waitingWrites = [:]
            for w in sessionWaiters { w.promise.fail(NodeError.unavailable("the node is shutting down")) }
            sessionWaiters = []
        }.get()
        logger.info("node stopped", metadata: ["region": "\(config.region)"])
    }

    // MARK: - Writes

    /// Submits a create or patch; returns once it is durable at `durability` (or `local`
    /// when `remote` timed out: see `WriteAck.achieved`).
    public func submit(_ command: PaymentCommand, durability: Durability) async throws(NodeError) -> WriteAck {
        let promise = loop.makePromise(of: WriteAck.self)
        loop.execute { [self] in
            if let failure { return promise.fail(NodeError.unavailable(failure)) }
            if stopping { return promise.fail(NodeError.unavailable("the node is shutting down")) }
            let ticket = WriteTicket(nextTicket)
            nextTicket += 1
            let (result, directives) = engine.submit(command, ticket: ticket, durability: durability,
                                                     nowMillis: WallClock.nowMillis())
            switch result {
            case .rejected(let error): promise.fail(NodeError.rejected(error))
            case .answered(let ack): promise.succeed(ack)
            case .pending: waitingWrites[ticket] = promise
            }
            carryOut(directives)
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as NodeError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    // MARK: - Reads

    /// Waits until this region has committed everything `token` covers (up to the
    /// configured wait), so a read that follows sees the session's own writes.
    public func waitForSession(_ token: VersionVector?) async throws(NodeError) {
        guard let token, !token.sortedEntries.isEmpty else { return }
        let promise = loop.makePromise(of: Void.self)
        loop.execute { [self] in
            if engine.canServe(sessionToken: token) { return promise.succeed() }
            let deadline = WallClock.nowMillis() + config.sessionWaitMillis
            sessionWaiters.append(SessionWaiter(token: token, deadlineMillis: deadline, promise: promise))
        }
        do {
            try await promise.futureResult.get()
        } catch let error as NodeError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// Runs `body` against the committed store.
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T { try readers.read(body) }

    /// The replication status now.
    public func status() async throws -> ReplicationStatus {
        try await loop.submit { [self] in engine.status(nowMillis: WallClock.nowMillis()) }.get()
    }

    /// SHA-256 over every record held (equal digests, equal state).
    public func stateDigest() async -> String {
        (try? await loop.submit { [self] in engine.stateDigest() }.get()) ?? ""
    }

    /// Why writes are refused, if they are (nil when healthy).
    public func unavailableReason() async -> String? {
        do {
            return try await loop.submit { [self] in failure ?? (stopping ? "the node is shutting down" : nil) }.get()
        } catch {
            return "the node has stopped"
        }
    }

    // MARK: - Directives

    private func carryOut(_ directives: [EngineDirective]) {
        for directive in directives {
            switch directive {
            case .persist(let request):
                commitsInFlight += 1
                committer.submit([request]) { [self] result in
                    loop.execute { self.committed(request.id, result) }
                }
            case .send(let peer, let message):
                transport.send(message, to: peer)
            case .acknowledge(let ticket, let ack):
                waitingWrites.removeValue(forKey: ticket)?.succeed(ack)
            case .compactLog(let through):
                committer.perform({ try $0.compactLog(through: through) }) { [self] result in
                    if case .failure(let error) = result {
                        logger.warning("log compaction failed", metadata: ["error": "\(error)"])
                    }
                }
            case .disconnect(let peer, let reason):
                transport.disconnect(peer, reason: reason)
            }
        }
    }

    private func committed(_ requestID: UInt64, _ result: Result<Void, Error>) {
        commitsInFlight -= 1
        switch result {
        case .success:
            if failure == nil {
                carryOut(engine.didPersist(requestID: requestID, nowMillis: WallClock.nowMillis()))
                serveSessionWaiters()
            }
        case .failure(let error):
            fail("the store could not commit: \(error)")
        }
        if commitsInFlight == 0 {
            for p in commitsDrained { p.succeed() }
            commitsDrained = []
        }
    }

    /// The store failed: what is in memory is ahead of the disk, so stop taking writes and
    /// replicating; reads of what was committed are still served. A restart recovers.
    private func fail(_ reason: String) {
        guard failure == nil else { return }
        failure = reason
        logger.critical("node stops taking writes", metadata: ["reason": "\(reason)"])
        for (_, p) in waitingWrites { p.fail(NodeError.unavailable(reason)) }
        waitingWrites = [:]
        let transport = self.transport
        Task { await transport.shutdown() }
    }

    private func serveSessionWaiters() {
        guard !sessionWaiters.isEmpty else { return }
        sessionWaiters.removeAll { w in
            guard engine.canServe(sessionToken: w.token) else { return false }
            w.promise.succeed()
            return true
        }
    }

    private func expireSessionWaiters() {
        guard !sessionWaiters.isEmpty else { return }
        let now = WallClock.nowMillis()
        let have = engine.durableVector
        sessionWaiters.removeAll { w in
            guard w.deadlineMillis <= now else { return false }
            w.promise.fail(NodeError.sessionNotAvailable(wanted: w.token, have: have))
            return true
        }
    }
}

extension ReplicaNode: PeerTransportDelegate {
    public func peerConnected(_ region: RegionID) {
        loop.execute { [self] in
            guard failure == nil else { return }
            carryOut(engine.peerConnected(region, nowMillis: WallClock.nowMillis()))
        }
    }

    public func peerDisconnected(_ region: RegionID) {
        loop.execute { [self] in
            carryOut(engine.peerDisconnected(region, nowMillis: WallClock.nowMillis()))
        }
    }

    public func peerSent(_ message: PeerMessage, from region: RegionID) {
        loop.execute { [self] in
            guard failure == nil else { return }
            carryOut(engine.receive(message, from: region, nowMillis: WallClock.nowMillis()))
        }
    }
}

extension ReplicaNode: Service {
    /// Runs until graceful shutdown (SIGTERM) or cancellation, then stops in order.
    /// `start()` must have been called.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
